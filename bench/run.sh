#!/usr/bin/env bash
# The benchmark suite: warm invokes, init time and JSON, for this runtime and
# its peers, against one cargo-lambda emulator build on loopback. Writes
# bench/results/<stamp>[-tag].{json,md} (ignored by git) and, for a suite
# BENCHMARKS.md cites, the same as bench/results/latest[-suite].{json,md}
# (committed): latest (no options), latest-paired, latest-json,
# latest-flavors, latest-otp. Raw figures: bench/results/raw/<stamp>/.
#
#   bench/run.sh            full run (~12 min on 2 cores)
#   bench/run.sh --quick    smoke run (~2 min): fewer invokes, runs, rounds
#   bench/run.sh --paired   this runtime and the Rust peer, warm, in the same
#                           rounds (~2 min): the check of a warm-path change
#   bench/run.sh --only json  the JSON benchmark alone (~1.5 min)
#   bench/run.sh --flavors  the layer variants (bench/flavors.sh documents it)
#   bench/run.sh --otp      OTP 27 beside OTP 25 (bench/otp.sh documents it)
# Options: --only warm,init,json,ab,rss   --rev REV (default HEAD) | --worktree
#          --n N (measured invokes per round)  --rounds R  --runs R (init)
#          --n-heavy N (measured invokes per round of *_heavy rows)
#          --ab-runs N (alternating runs per side of each ab comparison)
#          --no-quickack (emulator on 127.0.0.1 without the route: shows the stalls)
#          --runtimes a,b,... (warm rows to run; default all; NAME@0.3cpu runs
#            NAME under a 0.3-CPU cgroup quota)
#          --init-runtimes a,b,... (init rows; the same naming)
#
# The runtime under test is a `git archive` of REV (others' uncommitted work
# in this checkout is not measured) built with its own MIX_BUILD_ROOT, plus
# bench/echo_ex (Echo.handle, Heavy.handle) as the function. Rows
# layer_jit, layer_emu, layer_host run the layer variants of bench/layers.sh
# (ROW_heavy: with the CPU-heavy handler and its ~100 KB event); rows
# layer_otp27, layer_otp27jit the OTP 27 layers built in the Debian 13 root
# (bench/root/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
args="$*"
# shellcheck source=bench/lib.sh
. bench/lib.sh

quick=0 only=warm,init,json rev=HEAD worktree=0 n='' rounds='' runs='' no_quickack=0 flavors=0 otp=0 paired=0
n_heavy='' ab_runs=''
init_set="lambda_runtime layer_jit layer_emu layer_host rust_lambda_runtime awslambdaric httpc_loop erl_bare erl_flags"
# Init under the quota (added when the machine allows a cgroup): the layers'
# bootstrap (what Lambda runs) and bare erl. Boot is CPU-bound, and that is
# what a 512 MB Lambda gets (bench/coldstart/RESULTS.md).
init_quota="layer_jit@0.3cpu layer_emu@0.3cpu layer_host@0.3cpu erl_bare@0.3cpu"
warm_runtimes="lambda_runtime rust_lambda_runtime lambda_runtime_via_proxy rust_via_proxy awslambdaric
httpc_loop mini_one_write mini_two_writes"
# The same under a 0.3-CPU quota, what a 512 MB Lambda gets (added when the
# machine allows a cgroup; a NAME@0.3cpu can also be asked for by name).
quota_runtimes="lambda_runtime@0.3cpu rust_lambda_runtime@0.3cpu awslambdaric@0.3cpu httpc_loop@0.3cpu"
runtimes_given=0 init_given=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --rev) rev=$2; shift ;;
    --worktree) worktree=1 ;;
    --no-quickack) no_quickack=1 ;;
    --flavors) flavors=1 ;;
    --otp) otp=1 ;;
    --runtimes) warm_runtimes=${2//,/ }; runtimes_given=1; shift ;;
    --init-runtimes) init_set=${2//,/ }; init_given=1; shift ;;
    --n) n=$2; shift ;;
    --n-heavy) n_heavy=$2; shift ;;
    --ab-runs) ab_runs=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --runs) runs=$2; shift ;;
    --paired) paired=1 ;;
    -h | --help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
# The paired warm check: this runtime and the Rust echo in the same rounds.
if [ $paired = 1 ]; then
  { [ $flavors = 1 ] || [ $otp = 1 ]; } && { echo "--paired is a suite of its own; give one" >&2; exit 2; }
  [ "$only" = warm,init,json ] && only=warm
  [ $runtimes_given = 0 ] && warm_runtimes="lambda_runtime rust_lambda_runtime" && runtimes_given=1
fi
# The flavors suite (bench/flavors.sh): the three layer variants, echo and
# heavy handler, unconstrained and under the quota; warm, init (with the
# first response), interleaved A/B and idle RSS; the break-even table.
flavor_rows="layer_jit layer_emu layer_host"
flavor_heavy="layer_jit_heavy layer_emu_heavy layer_host_heavy"
if [ $flavors = 1 ]; then
  [ "$only" = warm,init,json ] && only=warm,init,ab,rss
  if [ $runtimes_given = 0 ]; then
    warm_runtimes="$flavor_rows rust_lambda_runtime $flavor_heavy"
    quota_runtimes="${flavor_rows// /@0.3cpu }@0.3cpu rust_lambda_runtime@0.3cpu ${flavor_heavy// /@0.3cpu }@0.3cpu"
  fi
  if [ $init_given = 0 ]; then
    init_set="$flavor_rows $flavor_heavy erl_bare"
    init_quota="${flavor_rows// /@0.3cpu }@0.3cpu ${flavor_heavy// /@0.3cpu }@0.3cpu erl_bare@0.3cpu"
  fi
fi
# Each ab comparison: ROW vs BASE, both unconstrained and under the quota.
ab_pairs="layer_jit:erl_bare layer_emu:erl_bare layer_host:erl_bare layer_emu:layer_jit
layer_emu_heavy:layer_jit_heavy"
rss_rows="$flavor_rows $flavor_heavy"
# The OTP suite (bench/otp.sh): the portable layers of OTP 25 (the host's)
# and OTP 27 (built in the Debian 13 root), interpreter and JIT, echo and
# heavy handler, unconstrained and under the quota; warm, init, idle RSS,
# and JSON on both OTPs.
otp_rows="layer_emu layer_jit layer_otp27 layer_otp27jit"
otp_heavy="layer_emu_heavy layer_jit_heavy layer_otp27_heavy layer_otp27jit_heavy"
if [ $otp = 1 ]; then
  [ $flavors = 1 ] && { echo "--otp and --flavors are separate suites; give one" >&2; exit 2; }
  [ "$only" = warm,init,json ] && only=warm,init,rss,json
  if [ $runtimes_given = 0 ]; then
    warm_runtimes="$otp_rows rust_lambda_runtime $otp_heavy"
    quota_runtimes="${otp_rows// /@0.3cpu }@0.3cpu rust_lambda_runtime@0.3cpu ${otp_heavy// /@0.3cpu }@0.3cpu"
  fi
  if [ $init_given = 0 ]; then
    init_set="$otp_rows $otp_heavy erl_bare"
    init_quota="${otp_rows// /@0.3cpu }@0.3cpu ${otp_heavy// /@0.3cpu }@0.3cpu erl_bare@0.3cpu"
  fi
  rss_rows="$otp_rows $otp_heavy"
fi
if [ $quick = 1 ]; then
  : "${n:=1000}" "${rounds:=1}" "${runs:=6}" "${n_heavy:=40}" "${ab_runs:=3}"
  warmup=200 warmup_heavy=5
else
  : "${n:=3000}" "${rounds:=8}" "${runs:=5}" "${n_heavy:=200}" "${ab_runs:=30}"
  warmup=500 warmup_heavy=20
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
  # shellcheck disable=SC2086 # row names have no spaces
  prepare_rows $warm_runtimes
  for round in $(seq "$rounds"); do
    for rt in $warm_runtimes; do
      if [ "$rt" != "${rt%@0.3cpu}" ] && [ -z "$quota_cgroup" ]; then
        log "warm: $rt skipped (no writable cgroup for the quota)"
        continue
      fi
      case $rt in
        *_heavy | *_heavy@0.3cpu) log "warm: $rt (round $round/$rounds, $n_heavy invokes after $warmup_heavy)" ;;
        *) log "warm: $rt (round $round/$rounds, $n invokes after $warmup)" ;;
      esac
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
  prepare_quota
  [ -n "$quota_cgroup" ] && [ $init_given = 0 ] && init_set="$init_set $init_quota"
  # shellcheck disable=SC2086 # row names have no spaces
  prepare_rows $init_set
  loadavg >"$raw/init-load-start.txt"
  for round in $(seq "$init_rounds"); do
    for rt in $init_set; do
      if [ "$rt" != "${rt%@0.3cpu}" ] && [ -z "$quota_cgroup" ]; then
        log "init: $rt skipped (no writable cgroup for the quota)"
        continue
      fi
      log "init: $rt (round $round/$init_rounds, $runs runs)"
      init_one "$rt" "$round" || log "init: $rt failed"
    done
  done
  loadavg >"$raw/init-load-end.txt"
fi

# --- Interleaved A/B: exec -> first response, run after run -----------------
if [[ ,$only, == *,ab,* ]]; then
  prepare_quota
  ab_rows=()
  for pair in $ab_pairs; do ab_rows+=("${pair%%:*}" "${pair#*:}"); done
  prepare_rows "${ab_rows[@]}"
  loadavg >"$raw/ab-load-start.txt"
  for pair in $ab_pairs; do
    for q in "" ${quota_cgroup:+@0.3cpu}; do
      log "ab: ${pair%%:*}$q vs ${pair#*:}$q ($ab_runs runs each, alternating)"
      ab_one "${pair%%:*}$q" "${pair#*:}$q" || log "ab: ${pair%%:*}$q vs ${pair#*:}$q failed"
    done
  done
  loadavg >"$raw/ab-load-end.txt"
fi

# --- Idle RSS after 100 invocations -------------------------------------------
if [[ ,$only, == *,rss,* ]]; then
  # shellcheck disable=SC2086 # row names have no spaces
  prepare_rows $rss_rows
  for round in $(seq $((quick == 1 ? 1 : 3))); do
    for rt in $rss_rows; do
      log "rss: $rt (round $round, 100 invocations, 2 s idle)"
      rss_one "$rt" "$round" || log "rss: $rt failed"
    done
  done
fi

# --- JSON --------------------------------------------------------------------
if [[ ,$only, == *,json,* ]]; then
  log "json: mix run bench/json/bench.exs (in $src)"
  load_before=$(loadavg)
  (cd "$src" && BENCH_QUICK=$quick BENCH_JSON_OUT="$raw/json.json" \
    MIX_BUILD_ROOT="/tmp/build-bench-src-$sha" CARGO_TARGET_DIR=/tmp/bench-src-target \
    mix run "$repo/bench/json/bench.exs") | tee "$raw/json.log" >&2 ||
    log "json: failed (see $raw/json.log)"
  echo "{\"before\":\"$load_before\",\"after\":\"$(loadavg)\"}" >"$raw/json.load.json"
  # The same benchmark on OTP 27, at once after (bench/root/lib.sh).
  if [ $otp = 1 ]; then json_in_root; fi
fi

# --- Report ------------------------------------------------------------------
loadavg >"$raw/load-end.txt"
# Each run is tagged by what it ran; a suite BENCHMARKS.md cites, run whole
# (not --quick, no row subset, the quickack route and the quota in place),
# also becomes bench/results/latest[-suite].*.
tag=
[ $flavors = 1 ] && tag=$tag-flavors
[ $otp = 1 ] && tag=$tag-otp
[ $paired = 1 ] && tag=$tag-paired
[ $quick = 1 ] && tag=$tag-quick
if [ $flavors = 1 ]; then
  [ "$only" != warm,init,ab,rss ] && tag=$tag-${only//,/+}
elif [ $otp = 1 ]; then
  [ "$only" != warm,init,rss,json ] && tag=$tag-${only//,/+}
elif [ $paired = 1 ]; then
  [ "$only" != warm ] && tag=$tag-${only//,/+}
else
  [ "$only" != warm,init,json ] && tag=$tag-${only//,/+}
fi
[[ "$args" == *--runtimes* || "$args" == *--init-runtimes* ]] && tag=$tag-some
[ $no_quickack = 1 ] && tag=$tag-noquickack
# Without a writable cgroup the quota rows were skipped: not a full run.
[ $paired = 0 ] && [[ ,$only, == *,warm,* || ,$only, == *,init,* ]] && [ -z "$quota_cgroup" ] &&
  tag=$tag-noquota
latest=
case $tag in
  '' | -flavors | -otp | -paired | -json) latest=bench/results/latest$tag ;;
esac
python3 bench/report/report.py "$raw" "bench/results/$stamp$tag" --command "bench/run.sh $args" \
  ${latest:+--latest "$latest"}
log "wrote bench/results/$stamp$tag.md and .json${latest:+ (and $latest.*)}"
