"""The awslambdaric peer: the event is the response."""


def handler(event, context):
    return event
