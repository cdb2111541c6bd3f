"""Runs AWS's durable-execution conformance requirements against functions
served by dex-local-runner, through the package's own validator
(aws_durable_execution_conformance_tests.validate.validate_description).

The package's CLI deploys a SAM stack to an AWS account; here the two
things the validator needs, an invoker and a `lambda` client, point at the
local runner instead, and CloudWatch Logs is read from the runtime's own
JSON log lines:

  * the invoker starts an execution of the function named after the
    requirement id (POST /start-durable-execution) and, for a synchronous
    requirement, waits until it is no longer running;
  * `lambda` is boto3's client with endpoint_url = the runner;
  * `cloudformation` names each function after itself; `logs` answers
    FilterLogEvents from the runtime's log file, keeping the lines whose
    durableExecutionArn is the execution's.

Usage: python run_conformance.py RUNNER_URL LOG_FILE OUT_JSON [--suite S ...]
       [--only ID ...] [--workers N]
"""

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.resources import files

import boto3

from aws_durable_execution_conformance_tests import cloudwatch, validate


@dataclass
class Invocation:
    output: str


class LocalInvoker:
    """The validator's Invoker, against dex-local-runner."""

    stack_name = "local"

    def __init__(self, runner_url, lambda_client):
        self._url = runner_url
        self._lambda = lambda_client

    def _start(self, function_name, event_file_path):
        with open(event_file_path) as f:
            event = json.load(f)
        body = {
            "AccountId": "123456789012",
            "FunctionName": function_name,
            "FunctionQualifier": "$LATEST",
            "ExecutionName": f"{function_name}-{os.urandom(4).hex()}",
            "ExecutionTimeoutSeconds": 300,
            "ExecutionRetentionPeriodDays": 1,
            "Input": json.dumps(event.get("Input")),
        }
        request = urllib.request.Request(
            self._url + "/start-durable-execution",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["ExecutionArn"]

    def invoke(self, function_name, event_file_path):
        arn = self._start(function_name, event_file_path)
        deadline = time.time() + 240
        while time.time() < deadline:
            status = self._lambda.get_durable_execution(DurableExecutionArn=arn)["Status"]
            if status not in ("RUNNING", "PENDING"):
                break
            time.sleep(0.25)
        return Invocation(json.dumps({"DurableExecutionArn": arn, "StatusCode": 200}))

    def invoke_async(self, function_name, event_file_path):
        arn = self._start(function_name, event_file_path)
        return Invocation(json.dumps({"DurableExecutionArn": arn, "StatusCode": 202}))


class LocalCloudFormation:
    def describe_stack_resource(self, StackName, LogicalResourceId):
        return {"StackResourceDetail": {"PhysicalResourceId": LogicalResourceId}}


class LocalLogs:
    """FilterLogEvents over the runtime's JSON log lines."""

    def __init__(self, log_file):
        self._log_file = log_file

    def filter_log_events(self, logGroupName, startTime, endTime, filterPattern=None, nextToken=None):
        arn = filterPattern.split('"')[1] if filterPattern else None
        events = []
        with open(self._log_file, errors="replace") as f:
            for i, line in enumerate(f):
                line = line.strip()
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                if arn and arn not in (record.get("durableExecutionArn"), record.get("executionArn")):
                    continue
                events.append({"message": line, "timestamp": startTime + i, "ingestionTime": startTime + i})
        return {"events": events}


def requirements(suites, only):
    root = files("aws_durable_execution_conformance_tests").joinpath("test_requirements")
    found = validate.discover_test_files(str(root), suites or None)
    if only:
        found = {k: v for k, v in found.items() if k in only}
    return dict(sorted(found.items(), key=lambda kv: [int(p) for p in kv[0].split("-")]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("runner_url")
    parser.add_argument("log_file")
    parser.add_argument("out_json")
    parser.add_argument("--suite", action="append", default=[])
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    # Poll faster than against AWS, and read the local log file at once.
    validate.POLL_INTERVAL_SECONDS = 0.5
    cloudwatch.CloudWatchLogRetriever.DEFAULT_WAIT_SECONDS = 0
    cloudwatch.CloudWatchLogRetriever.EVENT_POLL_TIMEOUT_SECONDS = 0
    cloudwatch.CloudWatchLogRetriever.EVENT_POLL_INTERVAL_SECONDS = 0

    client = boto3.client(
        "lambda",
        endpoint_url=args.runner_url,
        region_name="us-west-2",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    clients = {"lambda": client, "cloudformation": LocalCloudFormation(), "logs": LocalLogs(args.log_file)}
    invoker = LocalInvoker(args.runner_url, client)
    tmp = tempfile.mkdtemp(prefix="conformance-")
    out_dir = os.path.join(os.path.dirname(os.path.abspath(args.out_json)), "histories")

    def run(item):
        rid, path = item
        started = time.time()
        try:
            result = validate.validate_description(rid, rid, path, invoker, tmp, "us-west-2", clients, output_dir=out_dir)
            entry = {"id": rid, "passed": result.passed, "optional": result.optional, "errors": result.errors}
        except Exception as e:  # noqa: BLE001 - a crash is a failed requirement
            entry = {"id": rid, "passed": False, "optional": False, "errors": [f"{type(e).__name__}: {e}"]}
        entry["seconds"] = round(time.time() - started, 1)
        print(("PASS " if entry["passed"] else "FAIL ") + rid, file=sys.stderr, flush=True)
        return entry

    # The validator narrates every step on stdout; only the results matter here.
    sys.stdout = open(os.devnull, "w")
    reqs = requirements(args.suite, args.only)
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(run, reqs.items()))

    with open(args.out_json, "w") as f:
        json.dump(results, f, indent=2)
    passed = sum(r["passed"] for r in results)
    print(f"{passed}/{len(results)} passed", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
