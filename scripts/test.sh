#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs formatting,
# lints, every crate's tests, the runtime's and C ABI's tests again with pool pages protected, the
# docs build, and the runtime's tests under valgrind memcheck.
# `.ci/run` calls this same script.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# System packages the tests use: ffmpeg/ffprobe (movie checks), valgrind (memcheck), Mesa's
# software EGL/OpenGL (GL capture tests), a C/C++ compiler (C ABI tests), x264 (reel's H.264
# encoder, loaded at run time) and its header (the test of reel's x264 struct layouts); for
# `reel capture`'s tests: an X server (xvfb), third-party GL programs (glxgears from mesa-utils,
# glmark2-es2), and the X11/GL/EGL headers the tests' own GL program is compiled against.
packages=(ffmpeg valgrind libegl1 libegl-mesa0 libgl1-mesa-dri gcc g++ libx264-164 libx264-dev
          xvfb mesa-utils glmark2-es2-x11 libx11-dev libgl-dev libegl-dev libgles-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "cargo test: the runtime and its C ABI with pool pages protected (AUTORELEASE_DEBUG_POOL_PROTECT=1)"
AUTORELEASE_DEBUG_POOL_PROTECT=1 cargo test -p autorelease -p autorelease-ffi --locked

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "valgrind memcheck: autorelease runtime tests"
scripts/valgrind-tests.sh
