#!/bin/sh
# Runs bench/init_probe.erl in a VM started the way bootstrap.sh starts one
# (same flags, same code path, from the machine's Erlang and Elixir).
#   bench/init_probe.sh LAMBDA_TASK_ROOT   e.g. /tmp/build-bench-echo-<rev>/dev
set -eu
task_root=${1:?usage: init_probe.sh LAMBDA_TASK_ROOT}
out=$(mktemp -d)
erlc -o "$out" "$(dirname "$0")/init_probe.erl"
root=$(readlink -f "$(command -v erl)")
root=${root%/bin/erl}
for d in "$root"/erts-*/bin; do erts_bin=$d; done
elixir_lib=$(readlink -f "$(command -v elixir)")
elixir_lib=${elixir_lib%/bin/elixir}/lib
export ROOTDIR="$root" BINDIR="$erts_bin" EMU=beam PROGNAME=erl
# shellcheck disable=SC2086
"$erts_bin/erlexec" -boot "$root/bin/no_dot_erlang" -noinput \
  +S 1:1 +SDcpu 1:1 +Muacul 0 +Mut false +SDio 4 +sbwt none +sbwtdcpu none +sbwtdio none +Bd \
  -start_epmd false -kernel shell_history disabled -elixir ansi_enabled false \
  -pa "$elixir_lib/elixir/ebin" "$elixir_lib/logger/ebin" "$task_root"/lib/*/ebin "$out" \
  -s init_probe main
rm -rf "$out"
