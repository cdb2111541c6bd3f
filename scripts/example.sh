#!/usr/bin/env bash
# The main job: examples/hello on the runtime against cargo-lambda's Runtime
# API emulator on loopback. Starts the emulator, runs bootstrap.sh, invokes
# the function with a success event and an error event, prints both results,
# and stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >&2

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
logs=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

(cd test/fixtures/cargo_lambda_project && exec ../../../.venv/bin/cargo-lambda lambda watch \
  --only-lambda-apis -A 127.0.0.1 -P "$port") \
  >"$logs/emulator.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$port/.rt" \
  _HANDLER=Hello.handle \
  LAMBDA_TASK_ROOT="$PWD/examples/hello/_build/dev" \
  AWS_LAMBDA_FUNCTION_NAME=hello \
  AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 \
  ./bootstrap.sh >"$logs/runtime.log" 2>&1 &
pids+=($!)

invoke() {
  curl -sS --max-time 30 -w '\n(HTTP %{http_code})' -X POST \
    -H 'Content-Type: application/json' -d "$1" \
    "http://127.0.0.1:$port/2015-03-31/functions/_/invocations"
  echo
}

echo "--- success event: {\"name\":\"Ada\"}"
invoke '{"name":"Ada"}'
echo "--- error event: {\"fail\":true}"
echo "    (cargo-lambda answers a function error with HTTP 500; real Lambda with 200 and X-Amz-Function-Error)"
invoke '{"fail":true}'
echo "--- runtime log"
cat "$logs/runtime.log"
