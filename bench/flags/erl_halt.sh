#!/bin/sh
# The floor under bootstrap.sh's init time: the same direct exec of erlexec
# with the same VM flags (as in bootstrap.sh at the time of writing), but
# halting at once instead of starting the runtime. Timed exec to exit by
# bench/run.sh (init row "erl_flags").
set -eu
root=$(readlink -f "$(command -v erl)")
root=${root%/bin/erl}
for d in "$root"/erts-*/bin; do erts_bin=$d; done
export ROOTDIR="$root" BINDIR="$erts_bin" EMU=beam PROGNAME=erl
exec "$erts_bin/erlexec" -boot "$root/bin/no_dot_erlang" -noinput \
  +S 1:1 +SDcpu 1:1 +Muacul 0 +Mut false +SDio 4 +sbwt none +sbwtdcpu none +sbwtdio none +P 262144 +Bd \
  -start_epmd false -eval 'halt().'
