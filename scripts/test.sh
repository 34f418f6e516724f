#!/usr/bin/env bash
# The test suite: installs the browser the report test needs and the real model the
# live test needs (llama.cpp's server and SmolLM2-135M, built and fetched once into
# ~/.cache/quorum), then runs every test of the workspace (unit, property,
# simulation, snapshot, CLI, browser and live-model tests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/llama.sh install
eval "$(bash scripts/llama.sh paths)"
export LLAMA_SERVER LLAMA_MODEL
cargo test --workspace
