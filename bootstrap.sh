#!/bin/sh
# The Lambda entrypoint of lambda_runtime.
#
# In the layer this file is /opt/bootstrap, next to erts-*/, lib/ and bin/;
# in a development checkout it is bootstrap.sh at the repository root and
# uses the Erlang and Elixir installed on the machine. Either way it execs
# the BEAM directly: no shell wrappers (erl, elixir, a release script) stand
# between process start and the first /next, because boot is CPU-bound and
# Lambda gives a small function a fraction of a vCPU.
#
# Function code comes from $LAMBDA_TASK_ROOT/lib/*/ebin (the layout of a
# function package, and of a mix _build/ENV directory).
set -eu

here=${0%/*}
[ "$here" = "$0" ] && here=.
case $here in /*) ;; *) here=$(cd "$here" && pwd) ;; esac

erts_bin=
for d in "$here"/erts-*/bin; do
  [ -x "$d/erlexec" ] && erts_bin=$d
done

extra_paths=
dev_boot=
if [ -n "$erts_bin" ]; then
  # The layer: ERTS, OTP, Elixir and the runtime all live under $here.
  root=$here
  [ -d "$root/shlib" ] && export LD_LIBRARY_PATH="$root/shlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
  # A development checkout: the machine's Erlang and Elixir.
  erl=$(command -v erl) || {
    echo "lambda_runtime bootstrap: no ERTS next to $0 and no erl on PATH" >&2
    exit 127
  }
  root=$(readlink -f "$erl")
  root=${root%/bin/erl}
  # Started from inside a running VM, PATH leads to ROOT/erts-*/bin/erl.
  case $root in */erts-*) root=${root%/erts-*} ;; esac
  for d in "$root"/erts-*/bin; do erts_bin=$d; done
  elixir=$(command -v elixir) || {
    echo "lambda_runtime bootstrap: no elixir on PATH" >&2
    exit 127
  }
  elixir_lib=$(readlink -f "$elixir")
  elixir_lib=${elixir_lib%/bin/elixir}/lib
  extra_paths="$elixir_lib/elixir/ebin $elixir_lib/logger/ebin"
  # The checkout's own build, unless the function's build has the runtime
  # (a path dependency), which must not be shadowed by a stale copy.
  runtime_dir=${LAMBDA_TASK_ROOT:-/var/task}/lib/lambda_runtime
  if [ ! -d "$runtime_dir/ebin" ]; then
    runtime_dir=$here/_build/${MIX_ENV:-dev}/lib/lambda_runtime
    [ -d "$runtime_dir/ebin" ] && extra_paths="$extra_paths $runtime_dir/ebin"
  fi
  # The boot script `mix compile` wrote for this machine's ERTS (the
  # :lambda_boot compiler), if any: see "The boot script" below.
  erts_dir=${erts_bin%/bin}
  dev_boot=$runtime_dir/lambda-${erts_dir##*/}
  # Written for another Elixir install than this one (upgraded in place
  # since): not used. Its Elixir paths are relative to $ELIXIR_LIB.
  [ -f "$dev_boot.boot" ] && [ "$dev_boot.boot" -nt "$elixir_lib/elixir/ebin/elixir.app" ] ||
    dev_boot=
fi

export ROOTDIR="$root" BINDIR="$erts_bin" EMU=beam PROGNAME=erl
# Lambda's file system is read-only but for /tmp.
export ERL_CRASH_DUMP=/tmp/erl_crash.dump

task_root=${LAMBDA_TASK_ROOT:-/var/task}

# Function code: each application's ebin, and the project's consolidated
# protocols (mix lambda.package puts them in lib/APP/consolidated, as Mix
# does in _build). -pa puts them all before OTP's and Elixir's own.
code_paths=
for d in "$task_root"/lib/*/consolidated "$task_root"/lib/*/ebin; do
  [ -d "$d" ] && code_paths="$code_paths $d"
done

# The boot script. Both are interactive (a module loads on first use;
# embedded mode loads every module up front, ~2x slower). The layer's
# bin/lambda.boot (written by mix lambda.layer) also loads, in batches of
# ten at boot, the ~100 modules the runtime always needs before
# its first response: one by one through the code server, each searching
# the whole code path, they took a quarter of the time to the first
# response (bench/coldstart/RESULTS.md: 188 -> 139 ms, and 505 -> 464 ms
# under a 0.3-CPU quota; idle RSS 39.5 -> 40.9 MiB).
# A development checkout uses the same preloading for the OTP and Elixir
# modules, from the file `mix compile` wrote into the runtime's build
# directory for this ERTS (lambda-erts-VSN.boot), or else OTP's plain
# no_dot_erlang.boot.
boot=$root/bin/no_dot_erlang
[ -f "$root/bin/lambda.boot" ] && boot=$root/bin/lambda
boot_vars=
if [ -n "$dev_boot" ]; then
  boot=$dev_boot
  boot_vars="-boot_var ELIXIR_LIB $elixir_lib"
fi

# Threads. One poller (the default) runs one /next at a time; Lambda
# Managed Instances run AWS_LAMBDA_MAX_CONCURRENCY pollers side by side, and
# each poller's /next holds a dirty IO thread while it long-polls. Three more
# stay free for file I/O (code loading included) and other NIF calls, so a
# single poller gets the measured +SDio 4.
concurrency=${AWS_LAMBDA_MAX_CONCURRENCY:-1}
case $concurrency in '' | *[!0-9]*) concurrency=1 ;; esac
concurrency=${concurrency#"${concurrency%%[!0]*}"} # no leading zeros (octal)
[ -n "$concurrency" ] || concurrency=1
[ "${#concurrency}" -le 4 ] || concurrency=1000
[ "$concurrency" -le 1000 ] || concurrency=1000
dirty_io=$((concurrency + 3))
# One scheduler of each kind for a single poller (a small Lambda has a
# fraction of a vCPU); with several pollers the VM's defaults (one per
# available CPU, the cgroup quota included) let handlers run in parallel.
schedulers="+S 1:1 +SDcpu 1:1 +Muacul 0 +Mut false"
[ "$concurrency" -gt 1 ] && schedulers=

# Flags (measured in bench/, see BENCHMARKS.md and bench/coldstart/RESULTS.md):
#   -noinput             no shell, no stdin reader.
#   +S 1:1 +SDcpu 1:1    (one poller) one scheduler of each kind: a small
#   +SDio N              Lambda has a fraction of one vCPU, and every thread
#                        started at boot costs CPU before the first /next.
#                        N dirty IO threads as above (4 for one poller). Measured
#                        at 0.3 CPU: +SDio 1, +S 2:2, +sbwt very_short and
#                        no kernel default log handler all land within the
#                        noise (+-10 %) of these flags, so none is worth a
#                        risk (RESULTS.md).
#   +Muacul 0            (one poller) no carrier abandoning: it lets other
#                        schedulers' allocators reuse a carrier's free space,
#                        and there is no other scheduler. Idle RSS after 100
#                        invocations 38.6 vs 40.2-40.4 MiB, boot CPU the same.
#   +Mut false           (one poller) one allocator instance, not one per
#                        thread: memory allocated on a dirty IO thread (an
#                        event's body) and freed on the scheduler no longer
#                        goes back through a delayed-deallocation queue that
#                        wakes the aux thread 0.4 times per invocation.
#                        Paired rounds: 78 vs 83 us CPU per invocation, 100
#                        vs 103 under a 0.3-CPU quota; RSS after 100
#                        invocations 40.3-41.0 vs 41.9-42.1 MiB; boot the
#                        same (BENCHMARKS.md, Decisions). With one scheduler
#                        the instance's lock is all but uncontended.
#   +sbwt none ...       no busy-waiting. A small response is written from
#                        the normal scheduler before the dirty IO thread is
#                        woken, so spinning to catch that hand-over gains
#                        little: paired rounds 1.06x vs 1.01x the Rust
#                        peer's invocations/s for 19 % more CPU (100 vs 84
#                        us; BENCHMARKS.md). Below one vCPU that CPU would
#                        come out of the handler's quota.
#   +P 262144            the process table OTP 25 has by default: OTP 26+
#                        preallocate one for 1 048 576 processes, which at
#                        boot is 12 MB more of erlang:memory() on OTP 27
#                        (29.8 vs 17.7 MB; OTP 25 unchanged, 15.0 MB). A
#                        function has tens of processes, Managed Instances
#                        a few per poller.
#   -start_epmd false    no distribution, no epmd.
#   +Bd                  no break handler (there is no terminal).
# shellcheck disable=SC2086
exec "$erts_bin/erlexec" \
  -boot "$boot" $boot_vars \
  -noinput \
  $schedulers +SDio "$dirty_io" \
  +sbwt none +sbwtdcpu none +sbwtdio none \
  +P 262144 \
  +Bd \
  -start_epmd false \
  -kernel shell_history disabled \
  -elixir ansi_enabled false \
  -pa $extra_paths $code_paths \
  -s Elixir.LambdaRuntime.Bootstrap main \
  -extra "$@"
