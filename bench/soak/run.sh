#!/usr/bin/env bash
# Soak: N mixed invocations (default 100 000) through ONE lambda_runtime VM
# (bootstrap.sh + bench/soak/soak_ex's Soak.handle) against cargo-lambda's
# emulator, one at a time. Every answer is checked (none lost, none
# duplicated, the right outcome); every 5 000 the VM's RSS is read from
# /proc and its process, port and ETS counts from the handler's `stats`.
# Writes bench/results/<stamp>-soak.{md,json} (a run of the default N also
# latest-soak[-layer-VARIANT].{md,json}); exits 1 if a criterion fails.
#
#   bench/soak/run.sh [N]                 ~5 min for 100 000 on 2 cores
#   bench/soak/run.sh --layer emu [N]     the same through a layer
#
# --layer VARIANT (emu, the default flavor, or jit: see bench/layers.sh)
# runs the soak as Lambda runs it: the layer built from HEAD by
# bench/layers.sh (portable ERTS, OTP and Elixir apps, the runtime and its
# NIF) as /opt, and soak_ex's `mix lambda.package` zip (only its own
# beams) as the task root; its bootstrap is the VM's entrypoint.
#
# Like bench/run.sh it measures a `git archive` of HEAD (other work in
# progress in this checkout is not what runs), built with its own
# MIX_BUILD_ROOT, and puts the emulator on the quickack route.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
command="bench/soak/run.sh${*:+ $*}"
usage="usage: bench/soak/run.sh [--layer emu|jit] [N]"
variant=''
if [ "${1:-}" = --layer ]; then
  variant=${2:-}
  case $variant in emu | jit) ;; *) echo "$usage (--layer takes emu or jit)" >&2; exit 2 ;; esac
  shift 2
fi
n=${1:-100000}
case $n in '' | *[!0-9]*) echo "$usage" >&2; exit 2 ;; esac
[ "$n" -ge 1 ] || { echo "N must be at least 1" >&2; exit 2; }
no_quickack=0 # read by bench/lib.sh (quickack_route)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw=$repo/bench/results/raw/$stamp-soak
mkdir -p "$raw"
log() { echo "==> $*" >&2; }
# shellcheck source=bench/lib.sh
. bench/lib.sh # free_port, wait_port, stop, cleanup, quickack_route, start_emulator

[ -x .venv/bin/python ] || python3 -m venv .venv
if [ ! -x .venv/bin/cargo-lambda ]; then
  log "pip install cargo-lambda"
  .venv/bin/pip install -q --disable-pip-version-check cargo-lambda
fi

sha=$(git rev-parse --short HEAD)
src=/tmp/bench-src-$sha
if [ ! -f "$src/bootstrap.sh" ]; then
  rm -rf "$src" && mkdir -p "$src"
  git archive "$sha" | tar -x -C "$src"
fi
if [ -z "$variant" ]; then
  build_root=/tmp/build-bench-soak-$sha
  log "mix compile: bench/soak/soak_ex against lambda_runtime $sha (MIX_BUILD_ROOT=$build_root)"
  (cd bench/soak/soak_ex && LAMBDA_RUNTIME_SRC=$src MIX_BUILD_ROOT=$build_root MIX_ENV=dev \
    CARGO_TARGET_DIR=/tmp/bench-src-target mix compile >&2)
  entry=$src/bootstrap.sh
  # shellcheck disable=SC2016 # Markdown backticks, not a command
  entry_name='`bootstrap.sh`'
  task_root=$build_root/dev
else
  # The same layer directory as bench/run.sh's layer rows: built once per commit.
  layers=/tmp/bench-layer-$sha
  if [ ! -x "$layers/$variant/opt/bootstrap" ]; then
    log "bench/layers.sh: the $variant layer of $sha into $layers"
    CARGO_TARGET_DIR=/tmp/bench-src-target bench/layers.sh "$src" "$layers" "$variant"
  fi
  cp "$layers/$variant/opt/lambda_runtime-layer.json" "$raw/layer-$variant.json"
  log "mix lambda.package: bench/soak/soak_ex against $sha"
  (cd bench/soak/soak_ex && LAMBDA_RUNTIME_SRC=$src MIX_ENV=prod MIX_BUILD_ROOT=$layers/build-soak \
    CARGO_TARGET_DIR=/tmp/bench-src-target mix lambda.package --output "$layers/soak.zip" >"$raw/package.log")
  task_root=$layers/soak-task
  rm -rf "$task_root"
  unzip -q "$layers/soak.zip" -d "$task_root"
  entry=$layers/$variant/opt/bootstrap
  entry_name="the $variant layer's \`/opt/bootstrap\` (soak_ex's package as the task root)"
fi

trap cleanup EXIT
quickack_route # sets host, quickack
start_emulator # sets emu_pid, port; log in $raw/emulator.log

# shellcheck disable=SC2016 # $LATEST is Lambda's literal version name
export AWS_LAMBDA_FUNCTION_NAME=soak AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/soak \
  AWS_LAMBDA_LOG_STREAM_NAME=bench/soak
# No build of the runtime under this MIX_ENV: the function's own copy runs.
export MIX_ENV=bench-none
# bootstrap execs erlexec, which execs beam.smp: $! is the VM itself.
AWS_LAMBDA_RUNTIME_API=http://$host:$port/.rt _HANDLER=Soak.handle \
  LAMBDA_TASK_ROOT=$task_root "$entry" >"$raw/runtime.log" 2>&1 &
rt_pid=$!
pids+=("$rt_pid")

log "soak: $n invocations (runtime pid $rt_pid, emulator $host:$port)"
status=0
python3 -B bench/soak/soak.py --addr "$host:$port" --n "$n" --pid "$rt_pid" \
  --emulator-pid "$emu_pid" --out "bench/results/$stamp-soak" \
  --command "$command" --entry "$entry_name" --rev "$sha" --quickack "$quickack" || status=$?
log "runtime log: $raw/runtime.log ($(wc -l <"$raw/runtime.log") lines)"
# A whole run (the default N) is the one BENCHMARKS.md cites.
if [ "$n" = 100000 ]; then
  latest=bench/results/latest-soak${variant:+-layer-$variant}
  cp "bench/results/$stamp-soak.md" "$latest.md"
  cp "bench/results/$stamp-soak.json" "$latest.json"
  log "and $latest.{md,json}"
fi
exit $status
