#!/usr/bin/env bash
# Installs everything lambda_runtime needs on a fresh Debian 12 machine, then
# builds the project and the example. Safe to run again: it skips what is there.
#   - Elixir/OTP from Debian (elixir, erlang-dev, erlang-nox), zip/unzip,
#     bubblewrap (the Lambda-shaped sandbox), erlang-jiffy (JSON peer),
#     dpkg-dev and xz-utils (to unpack Debian's OTP sources)
#   - cargo-lambda (the Runtime API emulator) in a project-local venv, .venv/,
#     and the portable-layer tool chain there: ziglang (zig, the C/C++
#     compiler for ERTS and OpenSSL), cargo-zigbuild (the NIF) and deflate
#     (libdeflate: the layer zip ~3.5 % smaller than zlib's)
#   - the Rust standard library for aarch64 (arm64 layers)
#   - the NIF (precompiled from native/precompiled, or built with cargo when
#     native/ changed since) and the Elixir code, here and in examples/hello
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in elixir erlang-dev erlang-nox erlang-jiffy bubblewrap zip unzip dpkg-dev xz-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/cargo-lambda ]; then
  echo "==> pip install cargo-lambda (into .venv)"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check 'cargo-lambda==1.9.2'
fi

if [ ! -x .venv/bin/moto_server ] || [ ! -x .venv/bin/cfn-lint ]; then
  echo "==> pip install moto[server] cfn-lint (into .venv: AWS emulator and template linter for the deploy tests)"
  .venv/bin/pip install -q --disable-pip-version-check 'moto[server]==5.2.5' 'cfn-lint==1.58.0'
fi

if [ ! -x .venv/bin/cargo-zigbuild ] || ! .venv/bin/python3 -c 'import ziglang, deflate' 2>/dev/null; then
  echo "==> pip install ziglang cargo-zigbuild deflate (into .venv: the portable layer's compilers and libdeflate for its zip)"
  .venv/bin/pip install -q --disable-pip-version-check 'ziglang==0.17.1' 'cargo-zigbuild==0.24.1' 'deflate==0.9.0'
fi

command -v cargo >/dev/null || { echo "cargo is required (Rust via rustup)" >&2; exit 1; }

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  echo "==> rustup target add aarch64-unknown-linux-gnu (arm64 layers)"
  rustup target add aarch64-unknown-linux-gnu
fi

echo "==> mix compile (NIF and runtime)"
MIX_ENV=${MIX_ENV:-dev} mix compile --warnings-as-errors
echo "==> mix compile (examples/hello)"
(cd examples/hello && mix compile)

# --- Durable functions (issue 16): AWS's dex-local-runner and conformance
# requirements, in their own venv (.venv-durable/), for the durable tests.
scripts/install-durable-tools.sh
