#!/usr/bin/env bash
# Installs AWS's durable-execution tooling into its own venv, .venv-durable/
# (override with DURABLE_VENV=DIR), for the durable-function tests and
# `mix lambda.durable`:
#   - aws-durable-execution-sdk-python-testing: dex-local-runner, an HTTP
#     emulator of the durable-execution service (checkpoint, state, history,
#     callbacks) that drives a function through the Lambda Invoke API;
#   - aws-durable-execution-conformance-tests: the language-neutral
#     requirements and their importable validator. It declares Python >= 3.14
#     but installs and runs on 3.11+, hence --ignore-requires-python.
# Needs python3 (3.11 or newer) with venv. Safe to run again: a stamp file
# records what is installed, and nothing is reinstalled while it matches.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${DURABLE_VENV:-.venv-durable}
testing='aws-durable-execution-sdk-python-testing==1.4.0'
conformance='aws-durable-execution-conformance-tests==1.0.0'
stamp="$testing $conformance"

if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ] && [ -x "$venv/bin/dex-local-runner" ]; then
  exit 0
fi

python=${DURABLE_PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "install-durable-tools: $python is missing or older than 3.11; set DURABLE_PYTHON to a Python 3.11+" >&2
  exit 1
fi

echo "==> pip install $testing $conformance (into $venv)"
# Emptied, not removed: in scripts/elixir-root.sh's root it is a mount point.
if [ -d "$venv" ]; then find "$venv" -mindepth 1 -maxdepth 1 -exec rm -rf {} +; fi
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$testing"
"$venv/bin/pip" install -q --disable-pip-version-check --ignore-requires-python "$conformance"
echo "$stamp" > "$venv/.stamp"
