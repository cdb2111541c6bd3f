#!/usr/bin/env bash
# A second Elixir/OTP for the test suite: a cached Debian root (default
# trixie: Elixir 1.18 / OTP 27) and a way to run commands in it on this
# checkout, leaving the host unchanged.
#
#   scripts/elixir-root.sh [--suite SUITE] build        build the root if needed, print its path
#   scripts/elixir-root.sh [OPTIONS] run CMD...         run CMD in the root, in this checkout
#   scripts/elixir-root.sh [OPTIONS] shell              an interactive shell there
#   scripts/elixir-root.sh [--suite SUITE] clean        delete this suite's roots
#   OPTIONS: --suite SUITE (default trixie), --bind DIR (any number; see Run)
#
# Build (once per recipe, ~2 min; needs root):
#   - installs debootstrap on the host (apt) if it is missing;
#   - debootstraps SUITE (--variant=minbase, $DEBIAN_MIRROR or deb.debian.org)
#     into CACHE/roots/SUITE-KEY, CACHE being
#     ${LAMBDA_RUNTIME_CACHE:-${XDG_CACHE_HOME:-~/.cache}/lambda_runtime} and KEY
#     a hash of the recipe: the package lists below, the build functions of
#     this script and the host files copied in (CAs, pip.conf);
#   - inside it: $packages (Elixir/OTP with the separately packaged OTP
#     apps, jiffy, bubblewrap, gcc for cargo's build scripts, python3), the
#     host's local CAs (/usr/local/share/ca-certificates) and /etc/pip.conf
#     so that pip reaches PyPI as it does on the host, and a venv at
#     /opt/lambda_runtime/venv with $pip_packages;
#   - deletes the older roots of the same suite.
#
# Run: in a private mount and PID namespace (unshare), the root becomes `/`
# (pivot_root, not chroot, so sandboxes inside can still create user
# namespaces: bwrap works there) with the host's /dev and /sys, a fresh /proc,
# /tmp and /run, the host's rustup and cargo homes bound in (not installed;
# rustup read-only), and this checkout read-only at its own path. The
# checkout's build outputs are the root's own: _build, target, priv/native,
# tmp, examples/*/_build, .venv-durable and .venv are directories of the root
# (var/lib/lambda_runtime/checkouts/ID, /opt/lambda_runtime/venv) mounted
# over the checkout's, so the host's builds and the root's never mix. The
# environment is cleared to HOME, PATH, LANG, TERM, the Rust variables and
# LAMBDA_RUNTIME_ELIXIR_ROOT=SUITE; tini is the namespace's init (it reaps).
# --bind DIR (any number): the host directory DIR, which must exist, is
# bound read-write at the same path inside, after everything above (so it
# may lie in the read-only checkout or in /tmp): how a command in the root
# writes results for the host (bench/otp.sh's OTP 27 layers and JSON run).
# Every mount lives in that namespace only and ends with its last process;
# an interrupted or killed run kills them all (see run_in_root_bg).
# Not a security boundary: processes inside are root and see /dev and /sys.
set -euo pipefail

suite=trixie
binds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite=${2:?--suite needs a Debian suite name, e.g. trixie}; shift 2 ;;
    --suite=*) suite=${1#--suite=}; shift ;;
    --bind) binds+=("${2:?--bind needs a host directory}"); shift 2 ;;
    --bind=*) binds+=("${1#--bind=}"); shift ;;
    *) break ;;
  esac
done
cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  build | run | shell | clean) ;;
  *) sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

die() { echo "elixir-root: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (mount namespaces, debootstrap); run it with sudo"
for i in "${!binds[@]}"; do
  [ -d "${binds[$i]}" ] || die "--bind ${binds[$i]}: no such directory on the host (create it first)"
  binds[i]=$(cd "${binds[$i]}" && pwd -P)
  [ "${binds[$i]}" != / ] || die "--bind /: bind a directory below /, not the whole host"
done

self=$(readlink -f "$0")
checkout=$(cd "$(dirname "$self")/.." && pwd -P)
cache=${LAMBDA_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda_runtime}
roots=$cache/roots
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

packages=(
  elixir erlang-dev erlang-nox erlang-crypto erlang-asn1 erlang-public-key erlang-ssl erlang-inets
  erlang-jiffy bubblewrap zip unzip gcc libc6-dev binutils python3 python3-venv
  ca-certificates curl procps tini dpkg-dev xz-utils
)
# The same pins as scripts/setup.sh's .venv (emulator, AWS emulator, template
# linter, and zig + cargo-zigbuild + libdeflate for portable layers of this
# root's OTP).
pip_packages=('cargo-lambda==1.9.2' 'moto[server]==5.2.5' 'cfn-lint==1.58.0'
  'ziglang==0.17.1' 'cargo-zigbuild==0.24.1' 'deflate==0.9.0')

# Runs "$@" in a private mount namespace (and PID namespace: its init's
# death ends every process in it). setpriv: if this script dies, unshare
# gets SIGKILL, and --kill-child passes it on to the namespace's init.
private_ns() {
  setpriv --pdeathsig KILL -- unshare --mount --pid --fork --kill-child --propagation private -- "$@"
}

# Runs a command chrooted in $1 while building, with /proc and /dev.
in_build_chroot() {
  local dir=$1
  shift
  private_ns /bin/bash -euo pipefail -c '
    dir=$1; shift
    mount -t proc proc "$dir/proc"
    mount --rbind /dev "$dir/dev"
    exec chroot "$dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  ' bash "$dir" "$@"
}

host_ca_files() { compgen -G '/usr/local/share/ca-certificates/*.crt' || true; }

build_root_locked() {
  if ! command -v debootstrap >/dev/null; then
    echo "==> apt-get install debootstrap (on the host, to build the $suite root)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local partial=$roots/.$key.partial log=$roots/.$key.log
  remove_tree "$partial"
  echo "==> debootstrap --variant=minbase $suite into $root ($mirror)" >&2
  # debootstrap mounts /proc and /sys in the target: in a private namespace.
  private_ns debootstrap --variant=minbase "$suite" "$partial" "$mirror" >"$log" 2>&1 ||
    die "debootstrap failed; see $log"

  cp /etc/hosts "$partial/etc/hosts"
  cp /etc/resolv.conf "$partial/etc/resolv.conf" 2>/dev/null || touch "$partial/etc/resolv.conf"
  mkdir -p "$partial/usr/local/share/ca-certificates"
  local ca
  for ca in $(host_ca_files); do cp "$ca" "$partial/usr/local/share/ca-certificates/"; done
  [ ! -f /etc/pip.conf ] || cp /etc/pip.conf "$partial/etc/pip.conf"

  echo "==> apt-get install (in the root) ${packages[*]}" >&2
  in_build_chroot "$partial" /bin/sh -c \
    'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null &&
     update-ca-certificates >/dev/null && apt-get clean' sh "${packages[@]}" >>"$log" 2>&1 ||
    die "apt-get install in the root failed; see $log"

  echo "==> pip install (in the root, into /opt/lambda_runtime/venv) ${pip_packages[*]}" >&2
  in_build_chroot "$partial" /bin/sh -c \
    'python3 -m venv /opt/lambda_runtime/venv &&
     /opt/lambda_runtime/venv/bin/pip install -q --disable-pip-version-check "$@"' \
    sh "${pip_packages[@]}" >>"$log" 2>&1 || die "pip install in the root failed; see $log"

  in_build_chroot "$partial" /bin/sh -c \
    'echo "suite=$1"; echo "key=$2"; echo "built=$(date -u +%FT%TZ)";
     echo "otp=$(cat /usr/lib/erlang/releases/*/OTP_VERSION)"; echo "elixir=$(elixir --short-version)"' \
    sh "$suite" "$key" >"$partial/etc/lambda_runtime-root"
  mv "$partial" "$root"
  rm -f "$log"
  echo "==> $suite root ready: $root ($(tr '\n' ' ' <"$root/etc/lambda_runtime-root"))" >&2

  local old
  for old in "$roots/$suite"-*; do
    [ "$old" = "$root" ] || [ ! -d "$old" ] || { echo "==> removing the older root $old" >&2; remove_tree "$old"; }
  done
}

# The recipe's hash: a changed package list, build step or copied host file
# means a new root; the rest of this script (how a run works) does not.
key=$suite-$(
  {
    printf '%s\n' "$suite" "${packages[@]}" "${pip_packages[@]}"
    declare -f private_ns in_build_chroot build_root_locked
    for f in $(host_ca_files) /etc/pip.conf; do [ ! -f "$f" ] || cat "$f"; done
  } | sha256sum | cut -c1-12
)
root=$roots/$key

# Refuses to delete a directory that anything is mounted under (in this
# namespace), and never crosses into another filesystem.
remove_tree() {
  local dir=$1
  [ -e "$dir" ] || return 0
  if awk -v d="$dir/" '{ if (index($2 "/", d) == 1) found = 1 } END { exit !found }' /proc/mounts; then
    die "$dir has mounts under it (see /proc/mounts); not deleting it"
  fi
  rm -rf --one-file-system "$dir"
}

build_root() {
  [ -f "$root/etc/lambda_runtime-root" ] && return 0
  mkdir -p "$roots"
  exec 9>"$roots/.lock"
  flock 9
  [ -f "$root/etc/lambda_runtime-root" ] || build_root_locked
  exec 9>&-
}

# The checkout is read-only in the root, but Mix's incremental compile
# touches a source file it finds stale in the middle of a compile (Elixir >=
# 1.15, when a module it depends on changed its exports), and fails there
# with "could not touch ...: read-only file system". So the root's Elixir
# builds never compile incrementally across a change of the sources: when
# the Mix sources (paths, sizes and mtimes of lib, test/support, config and
# mix.exs, the examples' too) differ from those of the root's last run,
# its _build directories are emptied and the next mix compile starts clean.
wipe_stale_elixir_builds() {
  local state=$1 stamp
  # (find: some of these paths may not exist; what exists is listed.)
  stamp=$(cd "$checkout" && { find mix.exs mix.lock config lib test/support examples/*/mix.exs \
    examples/*/config examples/*/lib -type f -printf '%p %s %T@\n' 2>/dev/null || true; } |
    sort | sha256sum)
  [ "$stamp" != "$(cat "$state/mix-sources.stamp" 2>/dev/null)" ] || return 0
  local d
  for d in "$state"/_build "$state"/examples_*__build; do
    [ ! -d "$d" ] || find "$d" -mindepth 1 -delete
  done
  printf '%s\n' "$stamp" >"$state/mix-sources.stamp"
}

# Runs "$@" in the root, in this checkout (see the header). Replaces the
# calling shell (the background subshell of run_in_root_bg, or this script).
run_in_root() {
  local id state venv rustup_home cargo_home
  id=$(printf '%s' "$checkout" | sha256sum | cut -c1-12)
  state=/var/lib/lambda_runtime/checkouts/$id
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  # .venv may be a symlink (to a shared venv): the root's venv is mounted
  # where it points, inside the root.
  venv=$checkout/.venv
  [ ! -L "$venv" ] || venv=$(readlink -f "$venv")
  [ -e "$venv" ] || mkdir -p "$venv"

  # Mount points for the root's own build directories (all git-ignored):
  # the project's, each example's, and the durable tools' venv.
  local -a own=(_build target priv/native tmp .venv-durable)
  local d
  for d in "$checkout"/examples/*/mix.exs; do
    d=${d%/mix.exs}
    own+=("${d#"$checkout"/}/_build")
  done
  for d in "${own[@]}"; do
    mkdir -p "$checkout/$d" "$root$state/${d//\//_}"
  done

  wipe_stale_elixir_builds "$root$state"

  local -a env=(HOME=/root LANG=C.UTF-8 "TERM=${TERM:-dumb}" "LAMBDA_RUNTIME_ELIXIR_ROOT=$suite"
    "PATH=$cargo_home/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "RUSTUP_HOME=$rustup_home" "CARGO_HOME=$cargo_home")
  local v
  for v in RUSTUP_TOOLCHAIN RUSTUP_AUTO_INSTALL; do
    [ -z "${!v:-}" ] || env+=("$v=${!v}")
  done

  exec setpriv --pdeathsig KILL -- \
    unshare --mount --pid --fork --kill-child --propagation private -- /bin/bash -euo pipefail -c '
    root=$1 checkout=$2 state=$3 venv=$4 rustup_home=$5 cargo_home=$6 own=$7 nenv=$8; shift 8
    env=("${@:1:$nenv}"); shift "$nenv"
    nbind=$1; shift
    binds=("${@:1:$nbind}"); shift "$nbind"
    bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; }
    mount --bind "$root" "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    mount -t tmpfs tmpfs "$root/run"
    [ ! -f /etc/resolv.conf ] || mount --bind "$(readlink -f /etc/resolv.conf)" "$root/etc/resolv.conf"
    bind "$checkout" "$checkout"
    mount -o remount,bind,ro "$root$checkout"
    for d in $own; do mount --bind "$root$state/${d//\//_}" "$root$checkout/$d"; done
    bind "$root/opt/lambda_runtime/venv" "$venv"
    if [ -d "$rustup_home" ]; then
      bind "$rustup_home" "$rustup_home"
      mount -o remount,bind,ro "$root$rustup_home"
    fi
    [ ! -d "$cargo_home" ] || bind "$cargo_home" "$cargo_home"
    for d in "${binds[@]}"; do bind "$d" "$d"; done
    mkdir -p "$root/.oldroot"
    cd "$root"
    pivot_root . .oldroot
    exec chroot . /bin/sh -c '\''umount -l /.oldroot && cd "$1" && shift && exec /usr/bin/tini -s -g -- "$@"'\'' \
      sh "$checkout" /usr/bin/env --default-signal -i "${env[@]}" "$@"
  ' bash "$root" "$checkout" "$state" "$venv" "$rustup_home" "$cargo_home" "${own[*]}" "${#env[@]}" \
    "${env[@]}" "${#binds[@]}" ${binds[@]+"${binds[@]}"} "$@"
}

# `run`: in a background subshell that becomes unshare (so unshare's parent
# is this script, and its death-signal fires when this script dies), while
# this script waits; INT, TERM or HUP here (unshare ignores INT and TERM)
# kills the namespace at once. (A background job starts with INT and QUIT
# ignored; `env --default-signal` inside gives the command the defaults.)
run_in_root_bg() {
  (run_in_root "$@") <&0 &
  local pid=$! rc=0
  trap 'kill -KILL "$pid" 2>/dev/null || true' INT TERM HUP
  wait "$pid" || rc=$?
  while kill -0 "$pid" 2>/dev/null; do wait "$pid" || rc=$?; done
  trap - INT TERM HUP
  return "$rc"
}

case "$cmd" in
  build) build_root; echo "$root" ;;
  run)
    [ $# -gt 0 ] || die "run needs a command, e.g. run mix test"
    build_root
    run_in_root_bg "$@"
    ;;
  shell) build_root; run_in_root /bin/bash -l ;;
  clean)
    for old in "$roots/$suite"-* "$roots/.$suite"-*.partial; do
      [ ! -d "$old" ] || { echo "==> removing $old" >&2; remove_tree "$old"; }
    done
    ;;
esac
