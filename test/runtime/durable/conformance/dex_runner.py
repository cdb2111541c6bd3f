"""dex-local-runner with one fix, for the conformance run.

dex-local-runner 1.4.0 renumbers history events through
Event.from_event_with_id, which copies every *Details field but
InvocationCompletedDetails, so every InvocationCompleted event comes back
without the details the runner itself recorded (StartTimestamp,
EndTimestamp, RequestId) and every requirement that lists
`InvocationCompletedDetails: {}` fails on a missing key. The fix copies the
event whole with the new id; nothing else changes. Usage is the CLI's:
`python dex_runner.py start-server ...`.
"""

import dataclasses
import sys

from aws_durable_execution_sdk_python_testing import model
from aws_durable_execution_sdk_python_testing.cli import main


def _with_id(cls, event, event_id):
    return dataclasses.replace(event, event_id=event_id)


model.Event.from_event_with_id = classmethod(_with_id)

if __name__ == "__main__":
    sys.exit(main())
