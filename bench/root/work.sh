#!/usr/bin/env bash
# Lays out the work directory of bench/root/in_root.sh (the OTP 27 root's builds
# for bench/otp.sh) on the host:
#
#   bench/root/work.sh SRC WORK
#
#   WORK/src      SRC's project files (what `mix lambda.layer` and a path
#                 dependency need; no build output, no priv/native)
#   WORK/echo_ex  bench/echo_ex's mix.exs, lib/ and heavy_files.exs
#
# Both are replaced on every call; tar keeps the files' times, so the
# root's Mix builds (WORK/build-*) stay valid when nothing changed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -eq 2 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
src=$(cd "$1" && pwd)
work=$2

copy() { # from to name...
  local from=$1 to=$2 f files=()
  shift 2
  for f in "$@"; do [ ! -e "$from/$f" ] || files+=("$f"); done
  rm -rf "$to" && mkdir -p "$to"
  (cd "$from" && tar -cf - --exclude=priv/native "${files[@]}") | tar -xf - -C "$to"
}
copy "$src" "$work/src" .formatter.exs bootstrap.sh Cargo.toml Cargo.lock mix.exs lib mix native rel priv
[ -f "$work/src/mix.exs" ] || { echo "bench/root/work.sh: $src has no mix.exs" >&2; exit 1; }
copy "$repo/bench/echo_ex" "$work/echo_ex" mix.exs lib heavy_files.exs
