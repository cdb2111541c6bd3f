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
#   otp27, otp27jit  mix lambda.layer --flavor emu / --flavor jit, run
#         inside scripts/elixir-root.sh's Debian 13 root: Elixir 1.18 and
#         OTP 27 (ERTS from that root's OTP sources, scripts/otp-source.sh
#         there), through bench/root/in_root.sh on OUT_DIR/root27 (laid out
#         by bench/root/work.sh: SRC's project files in OUT_DIR/root27/src;
#         the root's own builds under OUT_DIR/root27). Needs root (the
#         root's namespaces).
#
# Each becomes OUT_DIR/layer-VARIANT.zip, unzipped (fresh) into
# OUT_DIR/VARIANT/opt, whose bootstrap is what Lambda runs as
# /opt/bootstrap. The manifest of each zip is checked against the variant
# (flavor, ERTS build, and OTP 27 for the otp27 variants), so a report row
# never names the wrong layer.
#
# OTP 25 sources: $LAMBDA_OTP_SOURCE, else scripts/otp-source.sh (fetched once
# into the cache). zig and cargo-zigbuild come from .venv/bin (setup.sh).
# The slow parts (ERTS, OpenSSL, zig's libc++) are cached under
# ~/.cache/lambda_runtime: with a warm cache each variant takes seconds,
# the first compile of SRC in MIX_ENV=prod ~1.5 min (in the OTP 27 root
# ~2.5 min, with its NIF).
# Uses MIX_BUILD_ROOT OUT_DIR/build-layer and $CARGO_TARGET_DIR when set.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 3 ] || { sed -n '2,32p' "$0" >&2; exit 2; }
src=$(cd "$1" && pwd)
out=$2
shift 2
mkdir -p "$out"
out=$(cd "$out" && pwd)

otp_source=${LAMBDA_OTP_SOURCE:-}
glibc=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
export PATH="$repo/.venv/bin:$PATH"

copied_src=0

for variant in "$@"; do
  want_otp=''
  case $variant in
    jit | emu) want_erts=zig want_flavor=$variant ;;
    host) want_erts=host want_flavor=jit ;;
    otp27) want_erts=zig want_flavor=emu want_otp=27 ;;
    otp27jit) want_erts=zig want_flavor=jit want_otp=27 ;;
    *) echo "bench/layers.sh: unknown variant $variant (jit, emu, host, otp27 or otp27jit)" >&2; exit 2 ;;
  esac
  zip=$out/layer-$variant.zip
  log=$out/layer-$variant.log
  started=$SECONDS
  if [ -n "$want_otp" ]; then
    echo "==> in the OTP $want_otp root: mix lambda.layer --arch x86_64 --flavor $want_flavor -> $zip" >&2
    [ "$copied_src" = 1 ] || { "$repo/bench/root/work.sh" "$src" "$out/root27" && copied_src=1; }
    build=("$repo/scripts/elixir-root.sh" --bind "$out" run "$repo/bench/root/in_root.sh" "$out/root27"
      layer "$want_flavor" "$zip")
  else
    [ -n "$otp_source" ] || otp_source=$("$repo/scripts/otp-source.sh")
    flags=(--flavor "$variant" --otp-source "$otp_source")
    [ "$variant" = host ] && flags=(--erts host --force --glibc "$glibc")
    echo "==> mix lambda.layer --arch x86_64 ${flags[*]} -> $zip" >&2
    build=(env MIX_ENV=prod MIX_BUILD_ROOT="$out/build-layer"
      mix lambda.layer --arch x86_64 "${flags[@]}" --output "$zip")
  fi
  if ! (cd "$src" && "${build[@]}" >"$log" 2>&1); then
    tail -20 "$log" >&2
    echo "bench/layers.sh: the $variant layer failed to build (log: $log)" >&2
    exit 1
  fi
  manifest=$(unzip -p "$zip" lambda_runtime-layer.json)
  python3 - "$variant" "$want_erts" "$want_flavor" "$want_otp" "$manifest" <<'PY'
import json, sys
variant, erts, flavor, otp, m = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
got_otp = str(m.get("otp", "")).split(".")[0]
if (m.get("erts_build"), m.get("flavor"), m.get("architecture")) != (erts, flavor, "x86_64") or \
        (otp and got_otp != otp):
    sys.exit(f"bench/layers.sh: the {variant} layer's manifest says erts_build={m.get('erts_build')}, "
             f"flavor={m.get('flavor')}, architecture={m.get('architecture')}, otp={m.get('otp')}; "
             f"expected {erts}, {flavor}, x86_64" + (f", OTP {otp}.x" if otp else ""))
PY
  rm -rf "${out:?}/$variant"
  mkdir -p "$out/$variant"
  unzip -q "$zip" -d "$out/$variant/opt"
  echo "    $variant: $(du -k "$zip" | cut -f1) KB zipped, $((SECONDS - started)) s" >&2
done
