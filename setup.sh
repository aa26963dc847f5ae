#!/bin/sh
# Installs what momsandbox needs on Debian 12 (compiler and CMake included;
# with sudo when not root), builds it, and runs the chapter's main
# experiment, scripts/trace2d.lua.  Safe to run again: it installs only
# what is missing.  `./setup.sh --bench` also installs the peers the
# benchmarks measure beside the engine (NumPy and PyTorch, for Debian's
# python3), and builds without running the experiment.
set -eu
cd "$(dirname "$0")"

# build-essential, cmake: compiler and build     lua5.4, liblua5.4-dev: Lua
# lua-busted: specs   libluajit-5.1-dev: LuaJIT, for momsandbox-jit
# luajit: the stock interpreter, which loads the module too   gnuplot-nox: figures
# libreadline-dev: line editing in the REPL
# clang, libclang-rt-dev: libFuzzer, for the fuzz test of the data parser
# lua-check: luacheck, the lint test of every Lua file
# libmicrohttpd-dev: the HTTP server of ms.explore's page (core/src/server.c)
# lua-cjson: ms.explore reads the page's requests   lua-socket: its specs' client
# chromium, chromium-driver: the page's test in headless Chromium
PACKAGES="build-essential cmake lua5.4 liblua5.4-dev lua-busted libluajit-5.1-dev
luajit gnuplot-nox libreadline-dev clang libclang-rt-dev lua-check
libmicrohttpd-dev lua-cjson lua-socket chromium chromium-driver"
# python3-numpy, python3-torch: the benchmarks' NumPy and PyTorch columns, and
# the spec that runs the rules beside torch.optim (spec/pytorch_spec.lua)
case "${1:-}" in
  --bench) PACKAGES="$PACKAGES python3-numpy python3-torch"; target=build ;;
  "") target=run ;;
  *) echo "usage: ./setup.sh [--bench]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup.sh: need root or sudo to install:$missing" >&2
    exit 1
  fi
  echo "setup.sh: installing$missing"
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends $missing
fi

make "$target"
