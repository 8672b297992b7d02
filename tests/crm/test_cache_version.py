"""crm.cache.DataVersion: a bump changes the number every cache key includes, and a version is
never handed out twice, even after the key was evicted."""

from django.core.cache import cache

from crm.cache import DataVersion


def test_a_bump_gives_a_new_version_even_after_an_eviction():
    version = DataVersion("test:version")
    cache.delete("test:version")
    seen = [version.current()]
    assert version.current() == seen[0]  # stable until a write
    version.bump()
    seen.append(version.current())
    cache.delete("test:version")  # evicted: neither a read nor a bump reuses an old number
    seen.append(version.current())
    version.bump()
    seen.append(version.current())
    cache.delete("test:version")
    version.bump()
    seen.append(version.current())
    assert len(set(seen)) == len(seen), seen
