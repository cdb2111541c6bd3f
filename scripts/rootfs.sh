#!/usr/bin/env bash
# Builds, once, a Debian bullseye (glibc 2.31) `--variant=minbase` root
# filesystem for one architecture, to run a layer over an older glibc than
# provided.al2023's (LambdaRuntime.Tools.Emulator.Sandbox, `mix lambda.invoke
# --rootfs`, test/tools/portable). Prints the root's path on the last line of stdout;
# progress goes to stderr.
#
#   scripts/rootfs.sh amd64                     # cached: prints the path
#   scripts/rootfs.sh arm64 /srv/roots/arm64    # or into DIR
#   scripts/rootfs.sh amd64 --libcrypto FILE    # a root with FILE as libcrypto.so.3
#
# Cache: ${LAMBDA_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda_runtime}/
# rootfs/bullseye-ARCH-HASH, HASH being this script's (a changed script
# builds a new root). A root is built under a temporary name and renamed
# when complete, so a half-built root is never used. Given DIR instead, the
# root goes there, with the same key in DIR/.lambda_runtime-rootfs.
#
# Installs with apt, when missing: debootstrap and debian-archive-keyring,
# and for a foreign architecture qemu-user-static (--no-install-recommends:
# not binfmt-support, so nothing registers the emulator with the system).
# A foreign root's second debootstrap stage runs its programs through
# qemu-user-static registered in a private binfmt_misc, inside a user and
# mount namespace of its own (Linux >= 6.7); the system's binfmt_misc is not
# touched. Needs root (or sudo) for debootstrap. Mirror:
# $LAMBDA_ROOTFS_MIRROR (default http://deb.debian.org/debian).
#
# --libcrypto FILE prints instead a root that also has FILE as
# /usr/lib/<multiarch>/libcrypto.so.3: the stand-in for AL2023's OpenSSL 3
# (which lives in /usr/lib64 there; bullseye has only OpenSSL 1.1), on the
# root's default library path as AL2023's is on its own. That root is a copy
# of the plain one made of hard links (ROOT-libcrypto-HASH, HASH being the
# file's), so the plain root never has a libcrypto.so.3 and roots with
# different stand-ins can be used side by side.
set -euo pipefail

suite=bullseye
mirror=${LAMBDA_ROOTFS_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() {
  echo "scripts/rootfs.sh: $*" >&2
  exit 1
}
say() { echo "==> $*" >&2; }

args=("$@")
usage="usage: scripts/rootfs.sh amd64|arm64 [DIR] [--libcrypto FILE]"
arch='' dir='' libcrypto=''
while [ $# -gt 0 ]; do
  case $1 in
    --libcrypto)
      [ $# -ge 2 ] || die "--libcrypto needs a file; $usage"
      libcrypto=$2
      shift 2
      ;;
    -h | --help)
      echo "$usage"
      exit 0
      ;;
    -*) die "unknown option $1; $usage" ;;
    *)
      if [ -z "$arch" ]; then arch=$1; elif [ -z "$dir" ]; then dir=$1; else die "too many arguments; $usage"; fi
      shift
      ;;
  esac
done

case $arch in
  amd64) triplet=x86_64-linux-gnu elf_machine=3e00 qemu=qemu-x86_64-static ;;
  arm64) triplet=aarch64-linux-gnu elf_machine=b700 qemu=qemu-aarch64-static ;;
  '') die "$usage" ;;
  *) die "unknown architecture '$arch': amd64 (x86_64) or arm64 (aarch64)" ;;
esac

if [ -n "$libcrypto" ]; then
  [ -f "$libcrypto" ] || die "--libcrypto $libcrypto: no such file"
  # An ELF shared object for this architecture: e_ident "\x7fELF", then
  # e_machine at offset 18.
  [ "$(od -An -tx1 -N4 "$libcrypto" | tr -d ' \n')" = 7f454c46 ] ||
    die "--libcrypto $libcrypto is not an ELF file"
  [ "$(od -An -tx1 -j18 -N2 "$libcrypto" | tr -d ' \n')" = "$elf_machine" ] ||
    die "--libcrypto $libcrypto is not built for $arch ($triplet)"
fi

command -v dpkg >/dev/null || die "this script needs a Debian or Ubuntu machine (dpkg, apt-get, debootstrap)"
host_arch=$(dpkg --print-architecture)
foreign=false
[ "$arch" = "$host_arch" ] || foreign=true

script_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
key="$suite-$arch-$script_hash"
cache=${LAMBDA_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda_runtime}/rootfs
if [ -z "$dir" ]; then
  root=$cache/$key
  stamp=
else
  root=$(realpath -m "$dir")
  stamp=$root/.lambda_runtime-rootfs
fi

ready() {
  [ -d "$root/usr/lib" ] || return 1
  [ -z "$stamp" ] || [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]
}

install_packages() {
  local need=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  say "apt-get install --no-install-recommends ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

# The binfmt_misc registration of $qemu with the F flag: the kernel opens the
# emulator now, so it runs for target binaries inside a chroot (or sandbox)
# that does not contain it. Magic and mask: the ELF header of an executable
# or shared object for the target machine (as qemu's own binfmt.d files).
registration() {
  local interp=$1
  case $arch in
    arm64) printf '%s' ':qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$interp"':F' ;;
    amd64) printf '%s' ':qemu-x86_64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$interp"':F' ;;
  esac
}

check_kernel() {
  local version major minor
  version=$(uname -r)
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%[!0-9]*}
  if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 7 ]; }; then
    die "a $arch root on this $host_arch machine runs its installer under qemu through a private binfmt_misc, which needs Linux >= 6.7 (this kernel is $version); build it on a newer kernel or on a $arch machine"
  fi
  [ -d /proc/sys/fs/binfmt_misc ] || die "this kernel has no binfmt_misc (/proc/sys/fs/binfmt_misc is missing)"
}

# debootstrap --second-stage in a chroot, its target programs run by $qemu
# through a binfmt_misc of a new user namespace: ids 0-65535 mapped to
# themselves (dpkg chowns files to system users; util-linux's --map-users
# needs newuidmap and /etc/subuid, so the map is written here, as root), its
# own mount namespace (the private binfmt_misc is mounted there) and pid
# namespace. The registration dies with the namespace. `container=lxc` tells
# debootstrap that it cannot make device nodes here (the first stage, outside
# the namespace, made them).
second_stage() {
  local partial=$1 registration=$2 fifo pid
  fifo=$(mktemp -u "$cache/.fifo.XXXXXX")
  mkfifo -m 600 "$fifo"
  exec 8<>"$fifo"
  rm -f "$fifo"
  # shellcheck disable=SC2016
  unshare --user --mount --propagation private --pid --fork -- /bin/sh -c '
    set -e
    read -r _ <&8
    exec 8<&-
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    printf "%s" "$1" > /proc/sys/fs/binfmt_misc/register
    exec env container=lxc chroot "$2" /debootstrap/debootstrap --second-stage' sh "$registration" "$partial" &
  pid=$!
  while [ "$(readlink "/proc/$pid/ns/user" 2>/dev/null)" = "$(readlink /proc/self/ns/user)" ]; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "0 0 65536" >"/proc/$pid/uid_map"
  echo "0 0 65536" >"/proc/$pid/gid_map"
  echo go >&8
  exec 8>&-
  wait "$pid"
}

build() {
  local partial=$1 log=$2 started=$SECONDS
  local packages=(debootstrap debian-archive-keyring)
  if $foreign; then
    check_kernel
    packages+=(qemu-user-static)
  fi
  install_packages "${packages[@]}"
  [ -f /usr/share/debootstrap/scripts/$suite ] || die "this debootstrap does not know $suite"

  if ! $foreign; then
    say "debootstrap --variant=minbase --arch=$arch $suite (log: $log)"
    debootstrap --variant=minbase --arch="$arch" --keyring="$keyring" \
      "$suite" "$partial" "$mirror" >"$log" 2>&1 || {
      tail -n 20 "$log" >&2
      die "debootstrap failed (the whole log: $log)"
    }
  else
    say "debootstrap --foreign --variant=minbase --arch=$arch $suite (log: $log)"
    debootstrap --foreign --variant=minbase --arch="$arch" --keyring="$keyring" \
      "$suite" "$partial" "$mirror" >"$log" 2>&1 || {
      tail -n 20 "$log" >&2
      die "debootstrap (first stage) failed (the whole log: $log)"
    }
    say "second stage under $qemu, in a private user, mount, pid namespace and binfmt_misc ($((SECONDS - started)) s so far)"
    local interp
    interp=$(command -v "$qemu") || die "$qemu is missing (apt-get install --no-install-recommends qemu-user-static)"
    second_stage "$partial" "$(registration "$interp")" >>"$log" 2>&1 || {
      tail -n 20 "$log" >&2
      die "debootstrap (second stage, under $qemu) failed (the whole log: $log)"
    }
  fi

  # Downloaded packages and indexes are not part of a root.
  find "$partial/var/cache/apt/archives" -name '*.deb' -delete
  find "$partial/var/lib/apt/lists" -type f ! -name lock -delete 2>/dev/null || true
  say "built the $suite $arch root in $((SECONDS - started)) s"
}

# debootstrap (and writing into a root it made) needs root: re-run under
# sudo, with the same cache.
as_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null || die "building a root filesystem needs root (debootstrap); run as root or install sudo"
  say "sudo (debootstrap needs root)"
  exec sudo LAMBDA_RUNTIME_CACHE="${cache%/rootfs}" LAMBDA_ROOTFS_MIRROR="$mirror" "${BASH_SOURCE[0]}" "${args[@]}"
}

if ! ready; then
  as_root
  if [ -n "$stamp" ] && [ -e "$root" ] && [ -n "$(ls -A "$root" 2>/dev/null)" ] && [ ! -f "$stamp" ]; then
    die "$root exists and is not a root this script built (no $stamp); remove it or choose another DIR"
  fi
  mkdir -p "$(dirname "$root")" "$cache"
  # One build at a time per root: a second caller waits, then finds it ready.
  exec 9>"$cache/.$key.lock"
  flock 9
  if ! ready; then
    partial=$root.partial
    log=$cache/$key.log
    rm -rf "$partial"
    trap 'rm -rf "$partial"' EXIT
    build "$partial" "$log"
    [ -z "$stamp" ] || echo "$key" | tee "$partial/.lambda_runtime-rootfs" >/dev/null
    rm -rf "$root"
    mv -T "$partial" "$root"
    trap - EXIT
  fi
  flock -u 9
fi

# The root with a stand-in libcrypto.so.3: a copy of the root made of hard
# links (no space, and the root itself stays as debootstrap made it), keyed
# by the library's hash, with the library as a file of its own.
if [ -n "$libcrypto" ]; then
  sum=$(sha256sum "$libcrypto" | cut -c1-12)
  variant=$root-libcrypto-$sum
  if [ ! -f "$variant/usr/lib/$triplet/libcrypto.so.3" ]; then
    as_root
    mkdir -p "$cache"
    exec 9>"$cache/.$key.lock"
    flock 9
  fi
  if [ ! -f "$variant/usr/lib/$triplet/libcrypto.so.3" ]; then
    say "$variant: the root with $libcrypto as /usr/lib/$triplet/libcrypto.so.3"
    rm -rf "$variant.partial"
    trap 'rm -rf "$variant.partial"' EXIT
    cp -al "$root" "$variant.partial"
    rm -f "$variant.partial/usr/lib/$triplet/libcrypto.so.3"
    install -m 0644 "$libcrypto" "$variant.partial/usr/lib/$triplet/libcrypto.so.3"
    rm -rf "$variant"
    mv -T "$variant.partial" "$variant"
    trap - EXIT
  fi
  root=$variant
fi

echo "$root"
