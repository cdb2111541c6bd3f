# shellcheck shell=bash
# shellcheck disable=SC2154 # the variables below are bench/run.sh's and bench/lib.sh's
# The OTP 27 side of bench/run.sh (bench/otp.sh), sourced by bench/lib.sh:
# what runs in scripts/elixir-root.sh's Debian 13 root (Elixir 1.18 /
# OTP 27) through bench/root/in_root.sh, on the work directory $layers/root27
# (bench/root/work.sh lays it out; the root sees it read-write by --bind).
#
# Rows layer_otp27 and layer_otp27jit (and their _heavy and @0.3cpu forms)
# run the OTP 27 layers that bench/layers.sh builds in the root, with
# bench/echo_ex packaged by the root's Elixir 1.18 ($layer_task27): a
# function compiled by OTP 27 for the OTP 27 layer. The OTP 25 rows keep
# the host's package ($layer_task).

root_package_built=0

is_root_variant() { [[ $1 == otp27* ]]; }

# Runs bench/root/in_root.sh CMD ARGS... in the root on $layers/root27, with
# $layers (and any more directories given as --bind DIR first) bound in.
in_root() {
  local binds=(--bind "$layers")
  while [ "${1:-}" = --bind ]; do binds+=(--bind "$2"); shift 2; done
  "$repo/scripts/elixir-root.sh" "${binds[@]}" run "$repo/bench/root/in_root.sh" "$layers/root27" "$@"
}

# bench/echo_ex's function package built in the root, unzipped to
# $layer_task27 (once per commit; once per run for a worktree).
prepare_root_package() {
  layer_task27=$layers/task-otp27
  [ "$root_package_built" = 1 ] && return 0
  [ "$worktree" = 0 ] && [ -d "$layer_task27/lib" ] && { root_package_built=1; return 0; }
  log "mix lambda.package (bench/echo_ex, in the OTP 27 root) against $sha into $layers"
  "$repo/bench/root/work.sh" "$src" "$layers/root27"
  in_root package "$layers/echo-otp27.zip" >"$layers/package-otp27.log" 2>&1 || {
    tail -20 "$layers/package-otp27.log" >&2
    echo "bench: the OTP 27 function package failed (log: $layers/package-otp27.log)" >&2
    return 1
  }
  rm -rf "$layer_task27"
  unzip -q "$layers/echo-otp27.zip" -d "$layer_task27"
  root_package_built=1
}

# The heavy handler's expected response for the OTP 27 rows: the same event
# bytes as the OTP 25 rows ($heavy_event), the response computed and
# encoded on OTP 27 (bench/echo_ex/heavy_files.exs with HEAVY_EVENT), so
# that loadgen's byte-for-byte check holds whatever order OTP 27 gives a
# map's keys. Whether it equals OTP 25's is recorded in the raw directory.
prepare_heavy_root() { # sets heavy_expected27
  local dir=$layers/root27/heavy
  heavy_expected27=$dir/heavy_expected.json
  if [ "$worktree" = 1 ] || [ ! -s "$heavy_expected27" ] || ! cmp -s "$heavy_event" "$dir/heavy_event.json"; then
    log "bench/echo_ex/heavy_files.exs in the OTP 27 root: the heavy handler's expected response"
    mkdir -p "$dir"
    cp "$heavy_event" "$dir/heavy_event.json"
    in_root heavy "$dir/heavy_event.json" "$dir" >"$layers/heavy-otp27.log" 2>&1 || {
      tail -20 "$layers/heavy-otp27.log" >&2
      return 1
    }
  fi
  if cmp -s "$heavy_expected" "$heavy_expected27"; then
    echo "identical bytes" >"$raw/heavy-otp27.txt"
  else
    echo "different bytes (OTP 27's own expected response is used for its rows)" >"$raw/heavy-otp27.txt"
  fi
}

# The layer's VM settings from bootstrap's flags (bench/flags/probe.sh)
# into $raw/flags-VARIANT.txt, and whether its bootstrap is bootstrap.sh.
probe_flags() { # variant task_root
  local opt=$layers/$1/opt
  "$repo/bench/flags/probe.sh" "$opt" "$2" "$raw/flags-$1.txt" ||
    log "flags probe: the $1 layer's VM exited with status $? (see $raw/flags-$1.txt)"
  if cmp -s "$opt/bootstrap" "$src/bootstrap.sh"; then
    echo "bootstrap=bootstrap.sh, unchanged" >>"$raw/flags-$1.txt"
  else
    echo "bootstrap=differs from bootstrap.sh" >>"$raw/flags-$1.txt"
  fi
}

# bench/json/bench.exs on OTP 27 (in the root, on the same runtime source),
# right after the host's run: $raw/json-otp27.{json,log,load.json}.
json_in_root() {
  local load_before root
  layers=/tmp/bench-layer-$sha
  mkdir -p "$layers"
  "$repo/bench/root/work.sh" "$src" "$layers/root27"
  root=$("$repo/scripts/elixir-root.sh" build)
  sed -n 's/^\(otp\|elixir\)=/\1 /p' "$root/etc/lambda_runtime-root" >"$raw/root-versions.txt"
  log "json: bench/json/bench.exs in the OTP 27 root (on $layers/root27/src)"
  load_before=$(loadavg)
  in_root --bind "$raw" json "$raw/json-otp27.json" "$quick" 2>&1 | tee "$raw/json-otp27.log" >&2 ||
    log "json: the OTP 27 run failed (see $raw/json-otp27.log)"
  echo "{\"before\":\"$load_before\",\"after\":\"$(loadavg)\"}" >"$raw/json-otp27.load.json"
}
