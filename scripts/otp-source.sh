#!/usr/bin/env bash
# Prints the directory of the Erlang/OTP sources of exactly the OTP installed
# from Debian (erlang-base), with Debian's patches applied, fetching them once
# into the build cache: `mix lambda.layer --otp-source "$(scripts/otp-source.sh)"`.
#
# It uses a private APT configuration (its own source list, state and cache
# under the cache directory) with deb-src entries for the archives the
# installed erlang-base came from, so the machine's APT setup is unchanged.
# Needs dpkg-dev (dpkg-source); scripts/setup.sh installs it.
set -euo pipefail

cache=${LAMBDA_RUNTIME_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda_runtime}
version=$(dpkg-query -W -f='${Version}' erlang-base 2>/dev/null) || {
  echo "otp-source.sh: erlang-base is not installed from Debian; give mix lambda.layer --otp-source" >&2
  exit 1
}
dir="$cache/otp-src/debian-${version//[:+~]/_}"
if [ -f "$dir/src/OTP_VERSION" ]; then
  echo "$dir/src"
  exit 0
fi

work=$(mktemp -d "$cache/otp-src/.debian.XXXXXX" 2>/dev/null || { mkdir -p "$cache/otp-src" && mktemp -d "$cache/otp-src/.debian.XXXXXX"; })
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/download"

# "erlang-base | 1:25.2.3+dfsg-1+deb12u4 | http://deb.debian.org/debian bookworm/main amd64 Packages"
apt-cache madison erlang-base | awk -F' [|] ' -v v="$version" '
  $2 == v { split($3, a, " "); split(a[2], s, "/"); print "deb-src " a[1] " " s[1] " " s[2] }' |
  sort -u >"$work/sources.list"
[ -s "$work/sources.list" ] || {
  echo "otp-source.sh: no APT archive lists erlang-base $version" >&2
  exit 1
}

apt_opts=(-o "Dir::State=$work/state" -o "Dir::Cache=$work/cache"
  -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
echo "==> apt-get source erlang=$version (private APT state in $work)" >&2
apt-get "${apt_opts[@]}" update -qq >&2
if (cd "$work/download" && apt-get "${apt_opts[@]}" source --download-only -qq "erlang=$version" >&2); then
  dpkg-source -x "$work"/download/*.dsc "$work/src" >/dev/null
else
  # Seen with trixie's 27.3.4.1+dfsg-1+deb13u4: the mirror served the
  # upstream tarball but not Debian's .dsc and patches. The upstream
  # sources of the same OTP version still build the same ERTS version
  # (without Debian's patches to it); say so.
  orig=$(ls "$work"/download/*.orig.tar.* 2>/dev/null | head -1)
  [ -n "$orig" ] || {
    echo "otp-source.sh: could not download the sources of erlang $version" >&2
    exit 1
  }
  echo "otp-source.sh: Debian's patches for erlang $version are not available;" \
    "using the upstream sources $(basename "$orig")" >&2
  # Kept apart from Debian's patched tree: once the mirror has the patches,
  # the next run unpacks those instead.
  dir=$dir-upstream
  if [ ! -f "$dir/src/OTP_VERSION" ]; then
    mkdir -p "$work/unpack"
    tar -xf "$orig" -C "$work/unpack"
    mv "$(dirname "$(ls "$work"/unpack/*/OTP_VERSION | head -1)")" "$work/src"
  fi
fi
if [ -d "$work/src" ]; then
  mkdir -p "$dir"
  mv "$work/src" "$dir/src"
fi
echo "$dir/src"
