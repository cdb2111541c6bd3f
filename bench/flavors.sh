#!/usr/bin/env bash
# The layer variants side by side: the zig-built ERTS against Debian's,
# and the interpreter against the JIT, in one run, so that every ratio
# and the break-even table come from the same machine phase:
#
#   bench/flavors.sh            full run: ~15 min on 2 quiet cores (warm ~5.5,
#                               init ~1.5, A/B ~5, RSS ~1; plus ~2 min when a
#                               commit's layers are built the first time)
#   bench/flavors.sh --quick    smoke run, ~2.5 min (~2 with the layers built)
#
# Any bench/run.sh option may follow: --rev REV | --worktree, --rounds R,
# --n N, --n-heavy N, --ab-runs N, --runs R, --only warm,init,ab,rss.
# Needs root for the 0.3-CPU cgroup (without it the quota rows are skipped
# and the result is tagged -noquota).
#
# It is `bench/run.sh --flavors`: for the runtime at REV (default HEAD),
# bench/layers.sh builds three x86_64 layers with the same function package
# (bench/echo_ex: Echo.handle and the CPU-heavy Heavy.handle):
#   layer_jit   mix lambda.layer --flavor jit   (ERTS built with zig, glibc 2.31)
#   layer_emu   mix lambda.layer --flavor emu   (the same, the interpreter)
#   layer_host  mix lambda.layer --erts host --force --glibc <host's>  (Debian's ERTS)
# and measures each, unconstrained and under the 0.3-CPU quota (ROW@0.3cpu):
#   warm   invokes/s and CPU µs per invocation, echo (8 rounds x 3 000) and
#          heavy (ROW_heavy: ~100 KB event, 8 rounds x 200, ~1 s of CPU per
#          round), interleaved with the Rust echo; every response checked
#   init   exec -> first /next and -> first response, beside bare erl
#          (3 rounds x 5 runs), CPU at both moments
#   ab     interleaved runs (30 each): each layer vs bare erl, layer_emu vs
#          layer_jit (echo and heavy)
#   rss    idle RSS after 100 invocations (3 runs per row)
# and the report adds the break-even table: warm invocations per cold start
# before the JIT's per-invocation saving pays back its dearer cold start.
# Writes bench/results/<stamp>-flavors.{md,json} and, for a whole run,
# bench/results/latest-flavors.{md,json}; raw figures in
# bench/results/raw/<stamp>/.
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,35p' "$0"; exit 0 ;; esac
exec "$(dirname "$0")/run.sh" --flavors "$@"
