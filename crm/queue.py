"""Enqueue Celery tasks only once the surrounding transaction has committed.

A task enqueued inside a transaction could run before the rows it needs are visible (or for
rows a rollback removes). Services call ``enqueue`` instead of ``task.delay``.
"""

from functools import partial

from celery import Task
from django.db import transaction


def enqueue(task: Task, *args, **kwargs) -> None:
    transaction.on_commit(partial(task.delay, *args, **kwargs))
