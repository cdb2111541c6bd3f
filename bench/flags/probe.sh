#!/usr/bin/env bash
# What a layer's VM made of bootstrap's flags: starts OPT_DIR/bootstrap as
# Lambda would (LAMBDA_TASK_ROOT, _HANDLER) with one more flag through
# ERL_ZFLAGS (erlexec appends it): an -eval that prints the settings the
# flags control and halts. A flag the VM rejects stops it before that.
#
#   bench/flags/probe.sh OPT_DIR TASK_ROOT OUT.txt
#
# OUT.txt: `key=value` lines (otp, erts, flavor, schedulers, dirty_cpu,
# dirty_io, and each allocator's t (+M<S>t) and acul (+M<S>acul) options),
# then, after a `--- other output` line, everything else the VM printed
# (stdout and stderr). Busy-wait flags (+sbwt...) cannot be read back.
# Exit status: the VM's (0 when the probe ran).
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
opt=$1 task=$2 out=$3
probe='[io:format("probe ~s=~s~n", [K, V]) || {K, V} <- [
  {otp, erlang:system_info(otp_release)}, {erts, erlang:system_info(version)},
  {flavor, atom_to_list(erlang:system_info(emu_flavor))},
  {schedulers, integer_to_list(erlang:system_info(schedulers))},
  {dirty_cpu, integer_to_list(erlang:system_info(dirty_cpu_schedulers))},
  {dirty_io, integer_to_list(erlang:system_info(dirty_io_schedulers))}]],
[begin
   Is = [I || {instance, _, _} = I <- erlang:system_info({allocator, A})],
   {instance, _, L} = hd(Is), O = proplists:get_value(options, L),
   io:format("probe alloc.~s=instances ~b t ~p acul ~p~n",
             [A, length(Is), proplists:get_value(t, O), proplists:get_value(acul, O)])
 end || A <- [binary_alloc, eheap_alloc, ets_alloc]],
halt().'
# No Runtime API listens on port 9 (discard): the runtime's first /next
# fails (its retry warning is left out) while the -eval runs.
text=$(env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 LAMBDA_TASK_ROOT="$task" _HANDLER=Echo.handle \
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:9 ERL_ZFLAGS="-eval '$probe'" \
  timeout 30 "$opt/bootstrap" 2>&1) || rc=$?
{
  printf '%s\n' "$text" | sed -n 's/^probe //p'
  echo "--- other output"
  printf '%s\n' "$text" | grep -v -e '^probe ' -e 'Runtime API connection failed' || true
} >"$out"
exit "${rc:-0}"
