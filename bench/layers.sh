#!/usr/bin/env bash
# Builds the layer variants the benchmarks compare, all for x86_64 (this
# machine runs them), from one lambda_runtime source tree:
#
#   bench/layers.sh SRC OUT_DIR VARIANT...
#
#   jit   mix lambda.layer --flavor jit --erts zig   (portable, the JIT)
#   emu   mix lambda.layer --flavor emu --erts zig   (portable, the interpreter)
#   host  mix lambda.layer --erts host --force --glibc <this machine's glibc>
#         (Debian's own ERTS and a shlib/ of host libraries: runs only on a
#         machine like this one; its manifest says it was forced)
#
# Each becomes OUT_DIR/layer-VARIANT.zip, unzipped (fresh) into
# OUT_DIR/VARIANT/opt, whose bootstrap is what Lambda runs as
# /opt/bootstrap. The manifest of each zip is checked against the variant
# (flavor, ERTS build), so a report row never names the wrong layer.
#
# OTP sources: $LAMBDA_OTP_SOURCE, else scripts/otp-source.sh (fetched once
# into the cache). zig and cargo-zigbuild come from .venv/bin (setup.sh).
# The slow parts (ERTS, OpenSSL, zig's libc++) are cached under
# ~/.cache/lambda_runtime: with a warm cache each variant takes seconds,
# the first compile of SRC in MIX_ENV=prod ~1.5 min. Uses MIX_BUILD_ROOT
# OUT_DIR/build-layer and $CARGO_TARGET_DIR when set.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { sed -n '2,24p' "$0" >&2; exit 2; }
src=$(cd "$1" && pwd)
out=$2
shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)

otp_source=${LAMBDA_OTP_SOURCE:-}
[ -n "$otp_source" ] || otp_source=$("$repo/scripts/otp-source.sh")
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
export PATH="$repo/.venv/bin:$PATH"

for variant in "$@"; do
  case $variant in
    jit | emu) flags=(--flavor "$variant" --otp-source "$otp_source") want_erts=zig want_flavor=$variant ;;
    host) flags=(--erts host --force --glibc "$glibc") want_erts=host want_flavor=jit ;;
    *) echo "bench/layers.sh: unknown variant $variant (jit, emu or host)" >&2; exit 2 ;;
  esac
  zip=$out/layer-$variant.zip
  started=$SECONDS
  echo "==> mix lambda.layer --arch x86_64 ${flags[*]} -> $zip" >&2
  if ! (cd "$src" && MIX_ENV=prod MIX_BUILD_ROOT=$out/build-layer \
    mix lambda.layer --arch x86_64 "${flags[@]}" --output "$zip" >"$out/layer-$variant.log" 2>&1); then
    tail -20 "$out/layer-$variant.log" >&2
    echo "bench/layers.sh: the $variant layer failed to build (log: $out/layer-$variant.log)" >&2
    exit 1
  fi
  manifest=$(unzip -p "$zip" lambda_runtime-layer.json)
  python3 - "$variant" "$want_erts" "$want_flavor" "$manifest" <<'PY'
import json, sys
variant, erts, flavor, m = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
if (m.get("erts_build"), m.get("flavor"), m.get("architecture")) != (erts, flavor, "x86_64"):
    sys.exit(f"bench/layers.sh: the {variant} layer's manifest says erts_build={m.get('erts_build')}, "
             f"flavor={m.get('flavor')}, architecture={m.get('architecture')}; "
             f"expected {erts}, {flavor}, x86_64")
PY
  rm -rf "${out:?}/$variant"
  mkdir -p "$out/$variant"
  unzip -q "$zip" -d "$out/$variant/opt"
  echo "    $variant: $(du -k "$zip" | cut -f1) KB zipped, $((SECONDS - started)) s" >&2
done
