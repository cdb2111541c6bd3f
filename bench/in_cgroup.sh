#!/bin/sh
# Runs a command inside a cgroup (v1 or v2) directory, as the same process:
#   bench/in_cgroup.sh /sys/fs/cgroup/cpu/GROUP command [args...]
# Used by bench/lib.sh for the warm rows under a CPU quota (NAME@0.3cpu).
set -e
echo $$ >"$1/cgroup.procs"
shift
exec "$@"
