#!/usr/bin/env bash
# Installs what the tests need beyond cargo: Debian's Chromium, which renders the
# HTML report in a browser test. Idempotent; needs root (or sudo) when installing.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
