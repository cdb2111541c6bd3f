#!/usr/bin/env bash
# The whole test suite (what CI runs), on two Elixir/OTP versions:
#   1. this machine's (Debian 12: Elixir 1.14 / OTP 25): set-up, static
#      checks (cargo fmt/clippy, mix format with 1.14's formatter), Rust unit
#      tests, then ExUnit (unit, JSON, fault injection, end-to-end against
#      cargo-lambda's emulator, layer sandbox, deploy against moto);
#   2. the same ExUnit suite in a Debian 13 root (Elixir 1.18 / OTP 27),
#      built and cached by scripts/elixir-root.sh (needs root), but for the
#      tests that build and run layers (tags layer, portable,
#      portable_layer): OTP 27's layers cost ~20 minutes cold, so they run
#      in scripts/matrix.sh (results in docs/matrix.md), with the jit flavor.
#
#   scripts/test.sh           both
#   scripts/test.sh --host    only 1 (this machine's Elixir)
#   scripts/test.sh --root    only 2 (the trixie root)
set -euo pipefail
cd "$(dirname "$0")/.."

# ExUnit on whatever Elixir runs this (the host's, or the root's when
# scripts/elixir-root.sh runs this script there).
exunit() {
  echo "==> mix compile (NIF, runtime, examples/hello) on Elixir $(elixir --short-version)"
  mix compile --warnings-as-errors
  (cd examples/hello && mix compile)
  echo "==> mix test on Elixir $(elixir --short-version) / OTP $(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().')"
  MIX_ENV=test mix compile --warnings-as-errors
  mix test "$@"
}

if [ -n "${LAMBDA_RUNTIME_ELIXIR_ROOT:-}" ]; then
  # Inside scripts/elixir-root.sh: the root has everything installed but
  # the durable tools, which live in a venv of the root's own (once).
  scripts/install-durable-tools.sh
  exunit --exclude layer --exclude portable --exclude portable_layer
  exit
fi

mode=${1:-both}
case "$mode" in
  both | --host | --root) ;;
  *) sed -n '9,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

if [ "$mode" != --root ]; then
  scripts/setup.sh
  echo "==> cargo fmt --check, clippy"
  cargo fmt --all --check
  cargo clippy --release --all-targets -- -D warnings
  # The reference formatter is Elixir 1.14's (this machine's); 1.18's
  # agrees on every file today (see README, "Elixir and OTP versions").
  echo "==> mix format --check-formatted"
  mix format --check-formatted
  echo "==> cargo test"
  cargo test --release
  exunit
fi

if [ "$mode" != --host ]; then
  started=$SECONDS
  echo "==> the Debian 13 root (Elixir 1.18 / OTP 27): scripts/elixir-root.sh"
  scripts/elixir-root.sh build >/dev/null
  echo "    root ready after $((SECONDS - started)) s"
  scripts/elixir-root.sh run scripts/test.sh
  echo "==> the trixie step took $((SECONDS - started)) s"
fi
