# shellcheck shell=bash
# shellcheck disable=SC2154 # the variables below are bench/run.sh's
# Functions for bench/run.sh (sourced; uses its variables: repo, raw, quick,
# n, warmup, n_heavy, warmup_heavy, runs, ab_runs, rev, worktree, no_quickack).

# shellcheck source=bench/quota.sh
. "$repo/bench/quota.sh"
# shellcheck source=bench/root/lib.sh
. "$repo/bench/root/lib.sh"

tools=$repo/bench/tools/target/release
pids=()
layers_built='' # the layer variants ready in this run
package_built=0
route_added=0
quota_cgroup=

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

free_port() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$host"
}

wait_port() { # host port
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1:$2" >&2
  return 1
}

stop() { # pid...: ends processes this script started, by id
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

cleanup() {
  [ ${#pids[@]} -gt 0 ] && stop "${pids[@]}"
  if [ -n "$quota_cgroup" ]; then rmdir "$quota_cgroup" 2>/dev/null || true; fi
  if [ "$route_added" = 1 ]; then
    ip route del local 127.0.0.2/32 dev lo table local quickack 1 2>/dev/null || true
  fi
}

ensure_prereqs() {
  if ! dpkg-query -W -f='${Status}' erlang-jiffy 2>/dev/null | grep -q "install ok installed"; then
    log "apt-get install erlang-jiffy"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq erlang-jiffy >/dev/null
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  if [ ! -x .venv/bin/cargo-lambda ]; then
    log "pip install cargo-lambda"
    .venv/bin/pip install -q --disable-pip-version-check cargo-lambda
  fi
  if ! .venv/bin/python -c 'import awslambdaric' 2>/dev/null; then
    log "pip install awslambdaric"
    .venv/bin/pip install -q --disable-pip-version-check awslambdaric
  fi
}

build_tools() {
  log "cargo build: bench/tools, bench/peers/rust_echo"
  (cd bench/tools && CARGO_TARGET_DIR=$PWD/target cargo build -q --release)
  (cd bench/peers/rust_echo && CARGO_TARGET_DIR=$PWD/target cargo build -q --release)
}

prepare_runtime() {
  if [ "$worktree" = 1 ]; then
    src=$repo
    sha="$(git rev-parse --short HEAD)-worktree"
    dirty=$(git status --porcelain -- lib native mix bootstrap.sh mix.exs Cargo.toml | wc -l)
  else
    sha=$(git rev-parse --short "$rev")
    src=/tmp/bench-src-$sha
    dirty=0
    if [ ! -f "$src/bootstrap.sh" ]; then
      rm -rf "$src" && mkdir -p "$src"
      git archive "$sha" | tar -x -C "$src"
    fi
  fi
  local build_root=/tmp/build-bench-echo-$sha
  echo_root=$build_root/dev
  log "mix compile: bench/echo_ex against lambda_runtime $sha (MIX_BUILD_ROOT=$build_root)"
  (cd bench/echo_ex && LAMBDA_RUNTIME_SRC=$src MIX_BUILD_ROOT=$build_root MIX_ENV=dev \
    CARGO_TARGET_DIR=/tmp/bench-src-target mix compile >&2)
}

# The layers as Lambda runs them: bench/layers.sh builds the variants of the
# runtime under test (jit, emu: portable, built with zig; host: Debian's
# ERTS; otp27, otp27jit: the same in the OTP 27 root, bench/root/lib.sh)
# into $layers/VARIANT/opt, and bench/echo_ex's function package is
# unzipped to $layer_task (Echo.handle and Heavy.handle; the OTP 27 rows'
# to $layer_task27). Rows layer_VARIANT run $layers/VARIANT/opt/bootstrap.
prepare_layers() { # variant...
  local v need=() host_rows=0
  layers=/tmp/bench-layer-$sha
  layer_task=$layers/task
  # A commit's layers are built once; a worktree's once per run.
  for v in "$@"; do
    is_root_variant "$v" || host_rows=1
    [[ " $layers_built " == *" $v "* ]] && continue
    [ "$worktree" = 0 ] && [ -x "$layers/$v/opt/bootstrap" ] && { layers_built="$layers_built $v"; continue; }
    need+=("$v")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "bench/layers.sh: layer variants ${need[*]} of $sha into $layers"
    CARGO_TARGET_DIR=/tmp/bench-src-target "$repo/bench/layers.sh" "$src" "$layers" "${need[@]}"
    layers_built="$layers_built ${need[*]}"
  fi
  if [ "$host_rows" = 1 ] && [ "$package_built" = 0 ] && { [ "$worktree" = 1 ] || [ ! -d "$layer_task/lib" ]; }; then
    package_built=1
    log "mix lambda.package (bench/echo_ex) against $sha into $layers"
    (cd bench/echo_ex && LAMBDA_RUNTIME_SRC=$src MIX_ENV=prod MIX_BUILD_ROOT=$layers/build-echo \
      CARGO_TARGET_DIR=/tmp/bench-src-target mix lambda.package --output "$layers/echo.zip" >"$layers/package.log")
    rm -rf "$layer_task"
    unzip -q "$layers/echo.zip" -d "$layer_task"
  fi
  # Each variant's manifest goes with the results (flavor, ERTS build, OTP,
  # glibc), and what its VM made of bootstrap's flags.
  for v in "$@"; do
    cp "$layers/$v/opt/lambda_runtime-layer.json" "$raw/layer-$v.json"
    if [ -f "$raw/flags-$v.txt" ]; then
      continue
    elif is_root_variant "$v"; then
      prepare_root_package
      probe_flags "$v" "$layer_task27"
    else
      probe_flags "$v" "$layer_task"
    fi
  done
}

# The CPU-heavy handler's event (~100 KB) and its expected response, written
# by bench/echo_ex/heavy_files.exs with the runtime under test's JSON codec.
prepare_heavy() { # sets heavy_event, heavy_expected
  heavy_event=$echo_root/heavy/heavy_event.json
  heavy_expected=$echo_root/heavy/heavy_expected.json
  [ "$worktree" = 0 ] && [ -s "$heavy_expected" ] && return
  log "bench/echo_ex/heavy_files.exs: the heavy handler's event and expected response"
  (cd bench/echo_ex && LAMBDA_RUNTIME_SRC=$src MIX_BUILD_ROOT=${echo_root%/dev} MIX_ENV=dev \
    CARGO_TARGET_DIR=/tmp/bench-src-target mix run heavy_files.exs "$echo_root/heavy" >&2)
}

# The layer variants and the heavy files that rows ROW... need (layer_VARIANT,
# *_heavy, @0.3cpu suffixes): built before the first round.
prepare_rows() { # row...
  local rt variants=() heavy27=0
  for rt in "$@"; do
    rt=${rt%@0.3cpu}
    case ${rt%_heavy} in
      layer_jit | layer_emu | layer_host | layer_otp27 | layer_otp27jit) variants+=("${rt%_heavy}") ;;
    esac
    if [ "$rt" != "${rt%_heavy}" ] && [ -z "${heavy_event:-}" ]; then prepare_heavy; fi
    [[ $rt == layer_otp27*_heavy ]] && heavy27=1
  done
  [ ${#variants[@]} -gt 0 ] || return 0
  # shellcheck disable=SC2046 # variant names have no spaces
  prepare_layers $(printf '%s\n' "${variants[@]#layer_}" | sort -u)
  if [ "$heavy27" = 1 ] && [ -z "${heavy_expected27:-}" ]; then prepare_heavy_root; fi
}

# The command, environment and event of a layer row (layer_VARIANT or
# layer_VARIANT_heavy, without @0.3cpu): sets row_cmd, row_env, row_event
# (empty: the default event) and row_expect (the heavy response).
layer_row() {
  local rt=$1 base=${1%_heavy} task=$layer_task
  row_cmd=$layers/${base#layer_}/opt/bootstrap
  row_expect=${heavy_expected:-}
  if is_root_variant "${base#layer_}"; then
    task=$layer_task27
    row_expect=${heavy_expected27:-}
  fi
  row_env=(LAMBDA_TASK_ROOT="$task" _HANDLER=Echo.handle)
  row_event=''
  if [ "$rt" != "$base" ]; then
    row_env=(LAMBDA_TASK_ROOT="$task" _HANDLER=Heavy.handle)
    row_event=$heavy_event
  fi
}

# A cgroup v1 `cpu` group with a 0.3-CPU quota (30 ms per 100 ms), about
# what Lambda gives a 512 MB function; empty when not writable (not root).
prepare_quota() { # sets quota_cgroup (empty: no writable cgroup)
  [ -n "$quota_cgroup" ] && return 0
  quota_cgroup=$(quota_cgroup_create "lambda_bench_$$")
}

# FIELD-NOTES: the emulator does not set TCP_NODELAY; a local route with
# quickack on 127.0.0.2 removes its 40 ms delayed-ACK stalls.
quickack_route() {
  host=127.0.0.2
  if [ "${no_quickack:-0}" = 1 ]; then
    quickack="no (--no-quickack)"
    host=127.0.0.1
  elif ip route show table local 127.0.0.2/32 2>/dev/null | grep -q quickack; then
    quickack="yes (route already present)"
  elif ip route add local 127.0.0.2/32 dev lo table local quickack 1 2>/dev/null; then
    route_added=1
    quickack="yes"
  else
    quickack="no (ip route add failed; emulator on 127.0.0.1, expect 40 ms stalls)"
    host=127.0.0.1
  fi
  log "quickack route: $quickack"
}

describe_machine() {
  local cpu erts
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  erts=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(version)]), halt().')
  python3 - "$@" <<PY
import json, platform, subprocess
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e: return str(e)
print(json.dumps({
  "date_utc": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "nproc": int("$(nproc)"), "cpu": "$cpu",
  "kernel": platform.release(), "os": sh(". /etc/os-release; echo \$PRETTY_NAME"),
  "otp": sh("erl -noshell -eval 'io:format(\"~s\", [erlang:system_info(otp_release)]), halt().'"),
  "erts": "$erts", "elixir": sh("elixir --version | tail -1"), "rustc": sh("rustc --version"),
  "python": sh(".venv/bin/python --version"),
  "awslambdaric": sh(".venv/bin/pip show awslambdaric | grep ^Version | cut -d' ' -f2"),
  "cargo_lambda": sh(".venv/bin/cargo-lambda lambda --version 2>&1 | head -1"),
  "rust_lambda_runtime": sh("grep -A1 'name = \"lambda_runtime\"' bench/peers/rust_echo/Cargo.lock | tail -1 | cut -d'\"' -f2"),
  "jiffy": sh("ls -d /usr/lib/erlang/lib/jiffy-* | sed 's|.*/||'"),
  "runtime_rev": "$sha", "runtime_src": "$src", "runtime_dirty_files": int("$dirty"),
  "quickack": "$quickack", "host": "$host", "quick": $quick,
  "n": int("$n"), "warmup": int("$warmup"), "rounds": int("$rounds"), "runs": int("$runs"),
  "n_heavy": int("$n_heavy"), "warmup_heavy": int("$warmup_heavy"), "ab_runs": int("$ab_runs"),
  "flavors": $flavors, "otp_compare": $otp,
}))
PY
}

start_emulator() { # sets emu_pid, port
  port=$(free_port)
  (cd test/fixtures/cargo_lambda_project && exec "$repo/.venv/bin/cargo-lambda" lambda watch \
    --only-lambda-apis -A "$host" -P "$port") >"$raw/emulator.log" 2>&1 &
  emu_pid=$!
  pids+=("$emu_pid")
  wait_port "$host" "$port"
}

start_proxy() { # sets proxy_pid, proxy_port
  proxy_port=$(free_port)
  "$tools/ctproxy" --listen "$host:$proxy_port" --upstream "$host:$port" --prefix /.rt \
    2>>"$raw/proxy.log" &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_port "$host" "$proxy_port"
}

# Starts runtime $1 with AWS_LAMBDA_RUNTIME_API=$2; sets rt_pid (the process
# whose CPU is counted: every command below execs down to it).
start_runtime() {
  local rt=${1%@0.3cpu} api=$2 log=$raw/runtime-$1.log q=()
  # NAME@0.3cpu: NAME inside the 0.3-CPU quota (a 512 MB Lambda's share).
  if [ "$rt" != "$1" ]; then
    quota_prefix "$quota_cgroup"
    q=("${in_quota[@]}")
  fi
  case $rt in
    lambda_runtime | lambda_runtime_via_proxy | lambda_runtime_acul_default | \
      lambda_runtime_busywait | lambda_runtime_zflags)
      # The variants override bootstrap.sh's flags (erlexec appends ERL_ZFLAGS).
      local zenv=()
      case $rt in
        lambda_runtime_acul_default) zenv=("ERL_ZFLAGS=+Muacul de") ;; # +Muacul 0 undone
        lambda_runtime_busywait) zenv=("ERL_ZFLAGS=+sbwt short +sbwtdcpu short +sbwtdio short") ;;
        lambda_runtime_zflags) # any variant: BENCH_ERL_ZFLAGS="+sbwtdio short" bench/run.sh ...
          zenv=("ERL_ZFLAGS=${BENCH_ERL_ZFLAGS:?set BENCH_ERL_ZFLAGS for lambda_runtime_zflags}") ;;
      esac
      env "${zenv[@]}" AWS_LAMBDA_RUNTIME_API="$api" _HANDLER=Echo.handle \
        LAMBDA_TASK_ROOT="$echo_root" "${q[@]}" "$src/bootstrap.sh" >>"$log" 2>&1 & ;;
    layer_*)
      layer_row "$rt"
      env "${row_env[@]}" AWS_LAMBDA_RUNTIME_API="$api" "${q[@]}" "$row_cmd" >>"$log" 2>&1 & ;;
    rust_lambda_runtime | rust_via_proxy)
      AWS_LAMBDA_RUNTIME_API=$api "${q[@]}" bench/peers/rust_echo/target/release/rust_echo >>"$log" 2>&1 & ;;
    awslambdaric)
      (cd bench/peers/py_echo && AWS_LAMBDA_RUNTIME_API=$api \
        exec "${q[@]}" "$repo/.venv/bin/python" -m awslambdaric echo.handler) >>"$log" 2>&1 & ;;
    httpc_loop)
      AWS_LAMBDA_RUNTIME_API=$api "${q[@]}" elixir bench/peers/httpc_loop.exs >>"$log" 2>&1 & ;;
    mini_one_write | mini_two_writes)
      local writes=1
      [ "$rt" = mini_two_writes ] && writes=2
      AWS_LAMBDA_RUNTIME_API=$api "${q[@]}" "$tools/miniruntime" --writes $writes >>"$log" 2>&1 & ;;
    *) echo "unknown runtime $1" >&2; return 1 ;;
  esac
  rt_pid=$!
  pids+=("$rt_pid")
}

warm_one() { # runtime round
  local rt=$1 round=$2 api out=$raw/warm-$1-$2.json load_before
  start_emulator
  api=http://$host:$port/.rt
  proxy_pid=
  case ${rt%@0.3cpu} in
    *_via_proxy | awslambdaric) start_proxy; api=$host:$proxy_port ;;
  esac
  start_runtime "$rt" "$api"
  load_before=$(loadavg)
  local ok=0 lg=(--n "$n" --warmup "$warmup")
  # The heavy handler: its ~100 KB event, every answer checked against the
  # expected response, fewer invokes (each costs milliseconds of CPU).
  case ${rt%@0.3cpu} in
    *_heavy)
      layer_row "${rt%@0.3cpu}"
      lg=(--n "$n_heavy" --warmup "$warmup_heavy" --payload "$row_event" --expect "$row_expect") ;;
  esac
  timeout 900 "$tools/loadgen" --addr "$host:$port" "${lg[@]}" \
    --pid "$rt_pid" --label "$rt" --out "$out.tmp" >/dev/null && ok=1
  if [ $ok = 1 ]; then
    python3 - "$out.tmp" "$out" "$load_before" "$(loadavg)" "$round" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d.update(load_before=sys.argv[3], load_after=sys.argv[4], round=int(sys.argv[5]))
json.dump(d, open(sys.argv[2], "w"))
PY
    rm -f "$out.tmp"
  fi
  stop "$rt_pid" ${proxy_pid:+"$proxy_pid"} "$emu_pid"
  [ $ok = 1 ]
}

init_one() { # runtime round; a runtime NAME@0.3cpu runs NAME under the quota
  local rt=${1%@0.3cpu} out=$raw/init-$1-$2.json
  # Mode invoke: exec -> first /next, then the stub sends one event and
  # the clock runs on to the first response.
  local ib=("$tools/initbench" run --label "$1" --runs "$runs" --warmup 1 --host "$host" --out "$out"
    --mode invoke)
  [ "$rt" != "$1" ] && ib+=(--cgroup "$quota_cgroup")
  case $rt in
    lambda_runtime)
      _HANDLER=Echo.handle LAMBDA_TASK_ROOT=$echo_root "${ib[@]}" -- "$src/bootstrap.sh" ;;
    layer_*)
      layer_row "$rt"
      env "${row_env[@]}" "${ib[@]}" ${row_event:+--event "$row_event"} -- "$row_cmd" ;;
    rust_lambda_runtime) "${ib[@]}" -- bench/peers/rust_echo/target/release/rust_echo ;;
    awslambdaric)
      (cd bench/peers/py_echo && "${ib[@]}" -- "$repo/.venv/bin/python" -m awslambdaric echo.handler) ;;
    httpc_loop) "${ib[@]}" -- elixir bench/peers/httpc_loop.exs ;;
    erl_bare) "${ib[@]}" --mode exit -- erl -noshell -eval 'halt().' ;;
    erl_flags) "${ib[@]}" --mode exit -- "$repo/bench/flags/erl_halt.sh" ;;
    *) echo "unknown init row $1" >&2; return 1 ;;
  esac >/dev/null
}

# Interleaved exec -> first response of a layer row and a base (bare erl,
# to its exit, or another layer row), run after run (initbench ab):
# under the quota a boot's wall time jumps by a CFS period, so the means of
# many alternating runs compare better than medians of rounds.
ab_one() { # row base (base: erl_bare or a layer row; both may end in @0.3cpu)
  local rt=${1%@0.3cpu} base=${2%@0.3cpu} out=$raw/ab-$1-vs-$2.json ab_args=() e
  [ "$rt" != "$1" ] && ab_args+=(--cgroup "$quota_cgroup")
  if [ "$base" != erl_bare ]; then
    layer_row "$base"
    ab_args+=(--base-cmd "$row_cmd" --base-label "$2")
    for e in "${row_env[@]}"; do ab_args+=(--base-env "$e"); done
  fi
  layer_row "$rt"
  for e in "${row_env[@]}"; do ab_args+=(--env "$e"); done
  "$tools/initbench" ab --label "$1 vs $2" --runs "$ab_runs" --warmup 1 --host "$host" \
    ${row_event:+--event "$row_event"} "${ab_args[@]}" --out "$out.tmp" -- "$row_cmd" >/dev/null &&
    mv "$out.tmp" "$out"
}

# Idle RSS after 100 invocations (initbench rss: every process of the
# runtime's group, 2 s after the last response).
rss_one() { # row round
  local rt=$1 out=$raw/rss-$1-$2.json rss_args=() e
  layer_row "$rt"
  for e in "${row_env[@]}"; do rss_args+=(--env "$e"); done
  "$tools/initbench" rss --label "$rt" --invocations 100 --host "$host" \
    ${row_event:+--event "$row_event"} "${rss_args[@]}" --out "$out.tmp" -- "$row_cmd" >/dev/null &&
    mv "$out.tmp" "$out"
}
