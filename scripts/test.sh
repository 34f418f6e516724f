#!/usr/bin/env bash
# The test suite: installs the browser the report test needs, then runs every test
# of the workspace (unit, property, simulation, snapshot, CLI and browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo test --workspace
