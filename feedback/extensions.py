"""Extension points of the complaints process: apps above ``feedback`` (surveys) learn of its
events without ``feedback`` importing them (docs/architecture.md, "Extension points").

- ``register_on_complaint_closed(fn)``: ``fn(complaint_id)`` is called after the transaction
  that closed the complaint committed (a failing listener is logged, never undoes the close).
  Surveys sends the client a short satisfaction survey from it.
"""

from collections.abc import Callable
from functools import partial

from django.db import transaction

_on_closed: list[Callable[[int], None]] = []


def register_on_complaint_closed(fn: Callable[[int], None]) -> Callable[[int], None]:
    if fn not in _on_closed:
        _on_closed.append(fn)
    return fn


def _call_closed(complaint_id: int) -> None:
    for fn in list(_on_closed):
        fn(complaint_id)


def complaint_closed(complaint_id: int) -> None:
    """Tell the listeners once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(_call_closed, complaint_id), robust=True)
