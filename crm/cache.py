"""A data version for cached figures: every write of some data bumps it after its commit, and
every cache key of a figure computed from that data includes it, so one bump makes all of them
stale at once (the old entries expire on their own). With a dead Redis the cache ignores errors
(settings), so a page recomputes instead of failing."""

import time

from django.core.cache import cache


def _fresh() -> int:
    # a version never used before: restarting at 1 after the key was evicted would hand out
    # the keys of entries computed under an old "1" again
    return time.time_ns()


class DataVersion:
    def __init__(self, key: str):
        self.key = key

    def current(self) -> int:
        return cache.get_or_set(self.key, _fresh, timeout=None)

    def bump(self) -> None:
        try:
            cache.incr(self.key)
        except ValueError:  # evicted or never set
            cache.set(self.key, _fresh(), timeout=None)
