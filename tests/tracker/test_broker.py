"""Broker inspection next to the Celery app: a task's messages are read for their job id."""

import base64
import json

from tracker import broker

TASK = "analysis.tasks.analysis_run_task"


def _message(task: str, args: list) -> dict:
    body = base64.b64encode(json.dumps([args, {}, {}]).encode()).decode()
    return {"body": body, "headers": {"task": task}, "properties": {"body_encoding": "base64"}}


def test_broker_messages_are_read_for_their_job_id():
    message = _message(TASK, [42])
    assert broker.message_first_arg(json.dumps(message), TASK) == 42
    assert broker.message_first_arg(json.dumps([message, "", "celery"]), TASK) == 42  # unacked
    other = _message("study.tasks.registry_import_validate_task", [42])
    assert broker.message_first_arg(json.dumps(other), TASK) is None


def test_a_message_without_arguments_names_no_job():
    assert broker.message_first_arg(json.dumps(_message(TASK, [])), TASK) is None


def test_without_a_redis_broker_nothing_can_be_read():
    assert broker.held_task_args(TASK, broker_url="memory://") is None
    assert broker.held_task_args(TASK, broker_url="") is None
