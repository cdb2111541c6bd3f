#!/usr/bin/env bash
# The whole layer matrix, which does not fit in CI: for each Elixir/OTP
# (this machine's, Debian 12: 1.14 / OTP 25; and the Debian 13 root of
# scripts/elixir-root.sh: 1.18 / OTP 27) and each emulator flavor (emu, the
# default; jit), the portable layers of both architectures are built and
# run through the layer tests: test/tools/layer/portable_layer_test.exs
# (what is in the zips), test/tools/portable/layer_test.exs (success, handler
# error, init error, crypto + ssl, a streamed response and mix lambda.invoke,
# each in the bullseye root of its architecture; arm64 under qemu-user) and
# test/tools/layer/sandbox_test.exs (over this machine's root).
#
# CI runs the default (emu) layers of this machine's OTP on both
# architectures; run this before resolving a change to the layer build.
#
#   scripts/matrix.sh                       everything (cold ~60 min on 2 cores, cached ~15)
#   scripts/matrix.sh --otp 25 --flavor jit one cell row
#
# Writes the results (one line per OTP x flavor: test counts, time, the
# commit and date it ran at) to docs/matrix.md. A run of some cells
# replaces their rows and keeps the others'.
set -euo pipefail
cd "$(dirname "$0")/.."

otps="25 27" flavors="emu jit"
while [ $# -gt 0 ]; do
  case $1 in
    --otp) otps=$2; shift ;;
    --flavor) flavors=$2; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

rev=$(git rev-parse --short HEAD)$(git diff --quiet || echo '+uncommitted')
tests=(test/tools/layer/portable_layer_test.exs test/tools/portable/layer_test.exs
  test/tools/layer/sandbox_test.exs)
results=$(mktemp)
trap 'rm -f "$results"' EXIT

run_cell() { # otp flavor
  local otp=$1 flavor=$2 started=$SECONDS log status summary
  log=$(mktemp)
  echo "==> OTP $otp, --flavor $flavor: ${tests[*]}" >&2
  if [ "$otp" = 25 ]; then
    env LAMBDA_TEST_LAYER_ARGS="--flavor $flavor" mix test "${tests[@]}" >"$log" 2>&1 && status=pass || status=FAIL
  else
    scripts/elixir-root.sh run env LAMBDA_TEST_LAYER_ARGS="--flavor $flavor" \
      mix test "${tests[@]}" >"$log" 2>&1 && status=pass || status=FAIL
  fi
  summary=$(grep -E '^[0-9]+ tests?, [0-9]+ failures?' "$log" | tail -1 || true)
  [ -n "$summary" ] || summary="(no ExUnit summary: see below)"
  echo "| $otp | $(versions "$otp") | $flavor | $status | $summary | $((SECONDS - started)) s | $rev, $(date -u +%Y-%m-%d) |" >>"$results"
  echo "    $status: $summary ($((SECONDS - started)) s)" >&2
  [ "$status" = pass ] || { tail -60 "$log" >&2; }
  rm -f "$log"
}

versions() { # otp -> "Elixir x / erts y"
  local cmd='IO.write("Elixir #{System.version()} / erts #{:erlang.system_info(:version)}")'
  if [ "$1" = 25 ]; then elixir -e "$cmd"; else scripts/elixir-root.sh run elixir -e "$cmd"; fi
}

scripts/setup.sh >&2
for otp in $otps; do
  [ "$otp" = 27 ] && scripts/elixir-root.sh build >/dev/null
  for flavor in $flavors; do run_cell "$otp" "$flavor"; done
done

# The rows of cells not run this time stay as the last run left them.
kept=$(mktemp)
trap 'rm -f "$results" "$kept"' EXIT
if [ -f docs/matrix.md ]; then
  while IFS= read -r row; do
    otp=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $2); print $2}')
    flavor=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
    grep -q "^| $otp | [^|]* | $flavor |" "$results" || echo "$row" >>"$kept"
  done < <(grep -E '^\| [0-9]+ \|' docs/matrix.md | grep -E '\| [^|]+, [0-9-]+ \|$' || true)
fi

{
  echo "# The layer matrix"
  echo
  echo "Written by \`scripts/matrix.sh\` (see its header for what each row runs)"
  echo "on $(nproc) cores, kernel $(uname -r)."
  echo
  echo "| OTP | versions | flavor | result | ExUnit | time | at |"
  echo "|---|---|---|---|---|---|---|"
  sort -t'|' -k2,2n -k4,4 "$results" "$kept"
} >docs/matrix.md
cat docs/matrix.md
! grep -q '| FAIL |' "$results"
