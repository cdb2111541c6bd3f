# shellcheck shell=bash
# The 0.3-CPU quota (30 ms per 100 ms period), about what a 512 MB Lambda
# gets, shared by bench/run.sh (through bench/lib.sh) and
# bench/coldstart/run.sh. Sourced.
#
#   quota_cgroup_create NAME   prints the new cgroup's directory (cgroup v1
#                              cpu controller, or v2), or nothing when no
#                              writable cgroup exists; a process joins it by
#                              writing its pid to DIR/cgroup.procs
#   quota_prefix DIR           sets in_quota to a command prefix that runs
#                              a command inside DIR as the same process:
#                              "${in_quota[@]}" COMMAND ARGS...

quota_cgroup_create() {
  local dir
  if [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ]; then
    dir=/sys/fs/cgroup/cpu/$1
    mkdir -p "$dir"
    echo 100000 >"$dir/cpu.cfs_period_us"
    echo 30000 >"$dir/cpu.cfs_quota_us"
  elif [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then
    dir=/sys/fs/cgroup/$1
    mkdir -p "$dir"
    echo "30000 100000" >"$dir/cpu.max"
  else
    return 0
  fi
  echo "$dir"
}

quota_prefix() {
  # shellcheck disable=SC2016,SC2034 # $$ and "$@" are the joining sh's; the caller reads in_quota
  in_quota=(sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' in_cgroup "$1")
}
