#!/usr/bin/env bash
# Cold start of lambda_runtime's layer variants vs. plain Erlang, a
# seed-style Elixir start and a standard mix release, unconstrained and under
# a 0.3-CPU cgroup quota. See RESULTS.md for the numbers and what they mean.
#
#   bench/coldstart/run.sh [RUNS]        (default 11 runs + 2 warm-up each)
#
# Builds into $WORK (default /tmp/lambda-coldstart): the layer variants of
# bench/layers.sh from this checkout (layer_jit and layer_emu: portable,
# ERTS built with zig; layer_host: Debian's ERTS, --erts host --force),
# examples/hello's function zip, and a mix release of it. Every figure
# comes from bench/tools' initbench (run, ab and rss), as bench/run.sh's
# init rows do. A smoke run: `bench/coldstart/run.sh 2` (~4 min with the
# layers cached, on 2 busy cores). Needs root for the cgroup (v1 cpu
# controller at /sys/fs/cgroup/cpu, or v2).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
RUNS=${1:-11}
WORK=${WORK:-/tmp/lambda-coldstart}
out=$WORK/results.jsonl
variants=(jit emu host)
mkdir -p "$WORK"
: >"$out"

echo "==> cargo build: bench/tools (initbench)" >&2
(cd "$repo/bench/tools" && CARGO_TARGET_DIR=$PWD/target cargo build -q --release)
initbench=$repo/bench/tools/target/release/initbench
echo "==> building the layers (${variants[*]}), function zip and release in $WORK" >&2
"$repo/bench/layers.sh" "$repo" "$WORK/layers" "${variants[@]}"
(cd "$repo/examples/hello" && MIX_ENV=prod MIX_BUILD_ROOT=$WORK/build-hello \
  mix lambda.package --output "$WORK/hello.zip" >"$WORK/package.log")
(cd "$here/release_hello" && MIX_ENV=prod MIX_BUILD_ROOT=$WORK/build-rel \
  mix release --overwrite --quiet >"$WORK/release.log")
rm -rf "$WORK/opt-plain-boot" "$WORK/task"
unzip -q "$WORK/hello.zip" -d "$WORK/task"
opt() { echo "$WORK/layers/$1/opt"; }
# The JIT layer without bin/lambda.boot: bootstrap falls back to OTP's
# no_dot_erlang.boot (every module loads on first use).
cp -a "$(opt jit)" "$WORK/opt-plain-boot"
rm "$WORK/opt-plain-boot/bin/lambda.boot"
release=$WORK/build-rel/prod/rel/release_hello/bin/release_hello

# A 0.3-CPU quota (30 ms per 100 ms period), about what a 512 MB Lambda gets.
# shellcheck source=bench/quota.sh
. "$here/../quota.sh"
cgroup=$(quota_cgroup_create "lambda_coldstart_$$")
[ -n "$cgroup" ] || echo "no writable cgroup: skipping the quota runs" >&2
cleanup() { if [ -n "$cgroup" ]; then rmdir "$cgroup" 2>/dev/null || true; fi; }
trap cleanup EXIT

bench() { "$initbench" run --runs "$RUNS" --warmup 2 --host 127.0.0.1 "$@" | tee -a "$out" >&2; }
hello=(--env _HANDLER=Hello.handle --env "LAMBDA_TASK_ROOT=$WORK/task")

for quota in "" ${cgroup:+"$cgroup"}; do
  q=()
  [ -n "$quota" ] && q=(--cgroup "$quota")
  suffix=${quota:+ @0.3cpu}
  bench --label "b erl halt$suffix" --mode exit "${q[@]}" -- erl -noshell -eval 'halt().'
  for v in "${variants[@]}"; do
    bench --label "a layer_$v bootstrap$suffix" --mode invoke "${q[@]}" "${hello[@]}" \
      -- "$(opt "$v")/bootstrap"
  done
  bench --label "a layer_jit bootstrap, no_dot_erlang.boot$suffix" --mode invoke "${q[@]}" \
    "${hello[@]}" -- "$WORK/opt-plain-boot/bootstrap"
  for v in jit emu; do
    bench --label "a layer_$v in bwrap sandbox$suffix" --mode invoke "${q[@]}" \
      --env _HANDLER=Hello.handle -- "$here/sandbox.sh" "$(opt "$v")" "$WORK/task"
  done
  bench --label "c elixir -e (ERL_LIBS)$suffix" --mode invoke "${q[@]}" --env _HANDLER=Hello.handle \
    --env "ERL_LIBS=$WORK/build-hello/prod/lib" \
    -- elixir --erl -noinput --no-halt -e 'LambdaRuntime.Bootstrap.main()'
  bench --label "d mix release start$suffix" --mode invoke "${q[@]}" --env _HANDLER=Hello.handle \
    --env RELEASE_DISTRIBUTION=none -- "$release" start
done

# bootstrap flag variants, under the quota where they matter (ERL_FLAGS come
# after bootstrap's own flags, so they override them).
if [ -n "$cgroup" ]; then
  for flags in "+SDio 1" "+S 2:2 +SDcpu 2:2" "+sbwt very_short" "-kernel logger [{handler,default,undefined}]"; do
    bench --label "a layer_jit bootstrap, ERL_FLAGS=$flags @0.3cpu" --mode invoke --cgroup "$cgroup" \
      "${hello[@]}" --env "ERL_FLAGS=$flags" -- "$(opt jit)/bootstrap"
  done
fi

# Alternately, many runs: each layer and bare erl (b), and the interpreter
# and the JIT layer. Under the quota a boot's wall time jumps by a CFS
# period (~100 ms) depending on where in the period it starts, so the means
# of interleaved runs compare better than medians.
for quota in "" ${cgroup:+"$cgroup"}; do
  q=()
  [ -n "$quota" ] && q=(--cgroup "$quota")
  for v in "${variants[@]}"; do
    "$initbench" ab --label "layer_$v vs b interleaved${quota:+ @0.3cpu}" --runs $((RUNS * 3)) \
      --host 127.0.0.1 "${q[@]}" "${hello[@]}" -- "$(opt "$v")/bootstrap" | tee -a "$out" >&2
  done
  "$initbench" ab --label "layer_emu vs layer_jit interleaved${quota:+ @0.3cpu}" --host 127.0.0.1 \
    --runs $((RUNS * 3)) "${q[@]}" "${hello[@]}" --base-cmd "$(opt jit)/bootstrap" --base-label layer_jit \
    --base-env _HANDLER=Hello.handle --base-env "LAMBDA_TASK_ROOT=$WORK/task" \
    -- "$(opt emu)/bootstrap" | tee -a "$out" >&2
done

for v in "${variants[@]}"; do
  "$initbench" rss --label "layer_$v bootstrap" --invocations 100 --host 127.0.0.1 "${hello[@]}" \
    -- "$(opt "$v")/bootstrap" | tee -a "$out" >&2
done
"$initbench" rss --label "mix release" --invocations 100 --host 127.0.0.1 --env _HANDLER=Hello.handle \
  --env RELEASE_DISTRIBUTION=none -- "$release" start | tee -a "$out" >&2

python3 "$here/table.py" "$out"
