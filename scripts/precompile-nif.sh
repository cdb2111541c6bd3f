#!/usr/bin/env bash
# Builds the runtime's NIF for x86_64 and aarch64 Linux (glibc 2.31) with
# cargo zigbuild (LambdaRuntime.Tools.Layer.NifBuild) and writes them, with their
# SHA-256 (SHA256SUMS) and what they were built from (BUILD: the source
# hash the :lambda_nif compiler compares with a checkout's), into
# native/precompiled/. Run it after any change under native/lambda_runtime_nif,
# Cargo.toml or Cargo.lock, and commit native/precompiled/ with that change.
#
# Needs Rust with the aarch64-unknown-linux-gnu target and zig +
# cargo-zigbuild in .venv/ (scripts/setup.sh installs all three).
# Installs nothing itself. Takes ~1 min (x86_64) + ~2 min (aarch64) on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
MIX_ENV=dev mix run --no-start scripts/precompile_nif.exs
