"""The extension points of segmentation: apps above it (surveys) follow the clients' classes
without ``segmentation`` importing them (docs/architecture.md, "Extension points").

- ``register_on_classes_changed(fn)``: ``fn(run_id)`` is called inside the transaction that
  writes a run's new classes, after they are written and before the run is marked done; a
  listener's error fails the run (nothing of it is kept). Surveys moves the answers of the
  clients whose classes changed in its analytics rollups.
"""

from collections.abc import Callable

_on_classes_changed: list[Callable[[int], None]] = []


def register_on_classes_changed(fn: Callable[[int], None]) -> Callable:
    if fn not in _on_classes_changed:
        _on_classes_changed.append(fn)
    return fn


def classes_changed(run_id: int) -> None:
    for fn in list(_on_classes_changed):
        fn(run_id)
