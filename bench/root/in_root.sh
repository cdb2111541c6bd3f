#!/usr/bin/env bash
# The OTP 27 half of bench/otp.sh: runs INSIDE scripts/elixir-root.sh's
# Debian 13 root (Elixir 1.18 / OTP 27), on a work directory WORK that the
# host prepared and bound in read-write (--bind):
#
#   WORK/src       the runtime under test (project files, no build output)
#   WORK/echo_ex   a copy of bench/echo_ex (the function)
#
#   bench/root/in_root.sh WORK layer FLAVOR ZIP    mix lambda.layer --flavor FLAVOR (emu|jit)
#   bench/root/in_root.sh WORK package ZIP         mix lambda.package of WORK/echo_ex
#   bench/root/in_root.sh WORK heavy EVENT DIR     the heavy handler's expected response to
#                                             EVENT, encoded on OTP 27, into DIR
#   bench/root/in_root.sh WORK json OUT.json QUICK bench/json/bench.exs (QUICK: 0 or 1)
#
# Everything it builds stays under WORK (MIX_BUILD_ROOT WORK/build-*,
# CARGO_TARGET_DIR WORK/target) or goes where its arguments say; the root's
# own caches (OTP sources from scripts/otp-source.sh, ERTS and OpenSSL
# builds, zig's) live in the root. zig and cargo-zigbuild come from the
# root's venv (/opt/lambda_runtime/venv).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 2 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
work=$1 cmd=$2
shift 2
die() { echo "bench/root/in_root.sh: $*" >&2; exit 1; }
[ "${LAMBDA_RUNTIME_ELIXIR_ROOT:-}" ] || die "runs inside scripts/elixir-root.sh's root, not on the host"
[ -f "$work/src/mix.exs" ] || die "$work/src/mix.exs is missing (the host copies the runtime there first)"
export PATH="/opt/lambda_runtime/venv/bin:$PATH" CARGO_TARGET_DIR=$work/target

case $cmd in
  layer)
    flavor=${1:?layer needs FLAVOR (emu or jit)} zip=${2:?layer needs ZIP}
    otp_source=$("$repo/scripts/otp-source.sh")
    cd "$work/src"
    MIX_ENV=prod MIX_BUILD_ROOT=$work/build-layer \
      mix lambda.layer --arch x86_64 --flavor "$flavor" --otp-source "$otp_source" --output "$zip"
    ;;
  package)
    zip=${1:?package needs ZIP}
    cd "$work/echo_ex"
    LAMBDA_RUNTIME_SRC=$work/src MIX_ENV=prod MIX_BUILD_ROOT=$work/build-echo \
      mix lambda.package --output "$zip"
    ;;
  heavy)
    event=${1:?heavy needs EVENT} dir=${2:?heavy needs DIR}
    cd "$work/echo_ex"
    HEAVY_EVENT=$event LAMBDA_RUNTIME_SRC=$work/src MIX_ENV=dev MIX_BUILD_ROOT=$work/build-echo \
      mix run heavy_files.exs "$dir"
    ;;
  json)
    out=${1:?json needs OUT.json} quick=${2:?json needs QUICK (0 or 1)}
    cd "$work/src"
    BENCH_QUICK=$quick BENCH_JSON_OUT=$out MIX_BUILD_ROOT=$work/build-json \
      mix run "$repo/bench/json/bench.exs"
    ;;
  *) die "unknown command $cmd (layer, package, heavy or json)" ;;
esac
