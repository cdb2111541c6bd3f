#!/usr/bin/env bash
# OTP 27 beside OTP 25: the warm, init and JSON
# benchmarks of the runtime's portable layers on both OTPs in one run, so
# that every ratio comes from the same machine phase:
#
#   bench/otp.sh            full run: ~15 min on 2 cores (warm ~8.5, init
#                           ~2.5, RSS ~2, JSON ~1.2 on the host and ~0.8 in
#                           the root; measured at load 5 with 1 warm round of
#                           8); plus ~4.5 min when a commit's layers and
#                           packages are built the first time, and ~9 more
#                           when the JIT ERTS caches are cold
#   bench/otp.sh --quick    smoke run, ~2.5 min with the layers built
#                           (~14 min with everything cold)
#
# Any bench/run.sh option may follow: --rev REV | --worktree, --rounds R,
# --n N, --n-heavy N, --runs R, --only warm,init,rss,json. Needs root:
# for the Debian 13 root (scripts/elixir-root.sh, built once, ~2 min) and
# the 0.3-CPU cgroup (without a writable cgroup the quota rows are skipped
# and the result is tagged -noquota).
#
# It is `bench/run.sh --otp`: for the runtime at REV (default HEAD) it
# builds four x86_64 layers with bench/layers.sh:
#   layer_emu, layer_jit         OTP 25 (the host's Debian 12: Elixir 1.14,
#                                OTP 25.2), --flavor emu / jit
#   layer_otp27, layer_otp27jit  OTP 27 (scripts/elixir-root.sh's Debian 13
#                                root: Elixir 1.18, OTP 27.3), --flavor emu /
#                                jit, built in the root (bench/root/in_root.sh)
# each with bench/echo_ex's function package compiled by the same Elixir
# and OTP as its layer, and every layer with bootstrap.sh's boot flags
# unchanged (bench/flags/probe.sh records what each VM made of them). It
# measures each layer with Echo.handle and with the CPU-heavy Heavy.handle
# (ROW_heavy; the same ~100 KB event for all, each response checked byte
# for byte against the one computed on the layer's own OTP),
# unconstrained and under the 0.3-CPU quota (ROW@0.3cpu):
#   warm   invokes/s and CPU µs per invocation (8 rounds x 3 000 echo,
#          8 x 200 heavy), interleaved with the Rust echo
#   init   exec -> first /next and -> first response, beside bare erl
#          (3 rounds x 5 runs)
#   rss    idle RSS after 100 invocations (3 runs per row)
#   json   bench/json/bench.exs (LambdaRuntime.JSON vs jiffy) on the host
#          (OTP 25, Debian 12's jiffy), then at once in the root (OTP 27,
#          Debian 13's jiffy)
# Writes bench/results/<stamp>-otp.{md,json} (with an OTP 27 ÷ OTP 25
# table) and, for a whole run, bench/results/latest-otp.{md,json}; raw
# figures in bench/results/raw/<stamp>/.
set -euo pipefail
case ${1:-} in -h | --help) sed -n '2,45p' "$0"; exit 0 ;; esac
exec "$(dirname "$0")/run.sh" --otp "$@"
