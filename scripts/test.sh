#!/usr/bin/env bash
# The whole test suite: set-up, static checks, Rust unit tests, ExUnit
# (unit, JSON, fault injection, end-to-end against cargo-lambda's emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "==> cargo fmt --check, clippy"
cargo fmt --all --check
cargo clippy --release --all-targets -- -D warnings
echo "==> mix format --check-formatted"
mix format --check-formatted
echo "==> cargo test"
cargo test --release
echo "==> mix test"
MIX_ENV=test mix compile --warnings-as-errors
mix test
