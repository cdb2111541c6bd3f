#!/usr/bin/env bash
# The benchmark suite: warm invokes, init time and JSON, for this runtime and
# its peers, against one cargo-lambda emulator build on loopback. Writes
# bench/results/<stamp>[-tag].{json,md}; a complete default run also latest.*.
#
#   bench/run.sh            full run (~11 min on 2 cores)
#   bench/run.sh --quick    smoke run (~1 min): fewer invokes, runs, rounds
# Options: --only warm,init,json   --rev REV (default HEAD) | --worktree
#          --n N (measured invokes per round)  --rounds R  --runs R (init)
#          --no-quickack (emulator on 127.0.0.1 without the route: shows the stalls)
#          --runtimes a,b,... (warm rows to run; default all; NAME@0.3cpu runs
#            NAME under a 0.3-CPU cgroup quota)
#
# The runtime under test is a `git archive` of REV (others' uncommitted work
# in this checkout is not measured) built with its own MIX_BUILD_ROOT, plus
# bench/echo_ex (Echo.handle) as the function.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
args="$*"
# shellcheck source=bench/lib.sh
. bench/lib.sh

quick=0 only=warm,init,json rev=HEAD worktree=0 n='' rounds='' runs='' no_quickack=0
warm_runtimes="lambda_runtime rust_lambda_runtime lambda_runtime_via_proxy rust_via_proxy awslambdaric
httpc_loop mini_one_write mini_two_writes"
# The same under a 0.3-CPU quota, what a 512 MB Lambda gets (added when the
# machine allows a cgroup; a NAME@0.3cpu can also be asked for by name).
quota_runtimes="lambda_runtime@0.3cpu rust_lambda_runtime@0.3cpu awslambdaric@0.3cpu httpc_loop@0.3cpu"
runtimes_given=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --rev) rev=$2; shift ;;
    --worktree) worktree=1 ;;
    --no-quickack) no_quickack=1 ;;
    --runtimes) warm_runtimes=${2//,/ }; runtimes_given=1; shift ;;
    --n) n=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --runs) runs=$2; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ $quick = 1 ]; then
  : "${n:=1000}" "${rounds:=1}" "${runs:=6}"
  warmup=200
else
  : "${n:=3000}" "${rounds:=8}" "${runs:=5}"
  warmup=500
fi
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw=$repo/bench/results/raw/$stamp
mkdir -p "$raw"
log() { echo "==> $*" >&2; }

# --- Prerequisites -----------------------------------------------------------
ensure_prereqs
build_tools
prepare_runtime # sets src, sha, echo_root, dirty

# --- Machine and set-up ------------------------------------------------------
trap cleanup EXIT
quickack_route # sets host, quickack
describe_machine "$@" >"$raw/machine.json"
loadavg >"$raw/load-start.txt"

# shellcheck disable=SC2016 # $LATEST is Lambda's literal version name
export AWS_LAMBDA_FUNCTION_NAME=echo AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/echo \
  AWS_LAMBDA_LOG_STREAM_NAME=bench/echo
# bootstrap.sh adds $here/_build/$MIX_ENV/lib/lambda_runtime/ebin when it
# exists; a MIX_ENV with no build keeps the function's own copy in use.
export MIX_ENV=bench-none

# --- Warm path ---------------------------------------------------------------
if [[ ,$only, == *,warm,* ]]; then
  prepare_quota
  [ -n "$quota_cgroup" ] && [ $runtimes_given = 0 ] && warm_runtimes="$warm_runtimes $quota_runtimes"
  for round in $(seq "$rounds"); do
    for rt in $warm_runtimes; do
      if [ "$rt" != "${rt%@0.3cpu}" ] && [ -z "$quota_cgroup" ]; then
        log "warm: $rt skipped (no writable cgroup for the quota)"
        continue
      fi
      log "warm: $rt (round $round/$rounds, $n invokes after $warmup)"
      warm_one "$rt" "$round" || warm_one "$rt" "$round" || log "warm: $rt failed twice"
    done
  done
fi

# --- Init --------------------------------------------------------------------
if [[ ,$only, == *,init,* ]]; then
  # Interleaved rounds of $runs runs each, so slow phases of the machine's
  # load hit every runtime alike; the report takes the median of all runs.
  # The layer's bootstrap (what Lambda runs) and bare erl are also measured
  # under a 0.3-CPU quota: boot is CPU-bound, and that is what a 512 MB
  # Lambda gets (bench/coldstart/RESULTS.md).
  init_rounds=$((quick == 1 ? 1 : 3))
  prepare_layer
  prepare_quota
  init_set=(lambda_runtime lambda_runtime_layer rust_lambda_runtime awslambdaric httpc_loop erl_bare erl_flags)
  [ -n "$quota_cgroup" ] && init_set+=(lambda_runtime_layer@0.3cpu erl_bare@0.3cpu)
  loadavg >"$raw/init-load-start.txt"
  for round in $(seq "$init_rounds"); do
    for rt in "${init_set[@]}"; do
      log "init: $rt (round $round/$init_rounds, $runs runs)"
      init_one "$rt" "$round"
    done
  done
  loadavg >"$raw/init-load-end.txt"
fi

# --- JSON --------------------------------------------------------------------
if [[ ,$only, == *,json,* ]]; then
  log "json: mix run bench/json_bench.exs (in $src)"
  load_before=$(loadavg)
  (cd "$src" && BENCH_QUICK=$quick BENCH_JSON_OUT="$raw/json.json" \
    MIX_BUILD_ROOT="/tmp/build-bench-src-$sha" CARGO_TARGET_DIR=/tmp/bench-src-target \
    mix run "$repo/bench/json_bench.exs") | tee "$raw/json.log" >&2 ||
    log "json: failed (see $raw/json.log)"
  echo "{\"before\":\"$load_before\",\"after\":\"$(loadavg)\"}" >"$raw/json.load.json"
fi

# --- Report ------------------------------------------------------------------
loadavg >"$raw/load-end.txt"
# Only a complete default run becomes latest.*; quick, partial or
# --no-quickack runs are tagged and kept beside it.
tag=
[ $quick = 1 ] && tag=$tag-quick
[ "$only" != warm,init,json ] && tag=$tag-${only//,/+}
[[ "$args" == *--runtimes* ]] && tag=$tag-some
[ $no_quickack = 1 ] && tag=$tag-noquickack
# Without a writable cgroup the quota rows were skipped: not a full run.
[[ ,$only, == *,warm,* ]] && [ -z "$quota_cgroup" ] && tag=$tag-noquota
latest=bench/results/latest
[ -n "$tag" ] && latest=
python3 bench/report.py "$raw" "bench/results/$stamp$tag" --command "bench/run.sh $args" \
  ${latest:+--latest "$latest"}
log "wrote bench/results/$stamp$tag.md and .json"
