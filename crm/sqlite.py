"""SQLite only: make LIKE case-insensitive for all of Unicode, as PostgreSQL's UPPER LIKE is.

SQLite's built-in LIKE folds only ASCII letters, so `name__icontains="северный"` would miss
"Северный ветер" on the embedded default. Django's SQLite backend compiles icontains/istartswith
to `LIKE %s ESCAPE '\\'`; this replaces the LIKE function on each new SQLite connection.
"""

import re
from functools import lru_cache

from django.db.backends.signals import connection_created


@lru_cache(maxsize=256)
def _like_regex(pattern: str, escape: str | None) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def unicode_like(pattern, value, escape=None):
    if pattern is None or value is None:
        return None
    return _like_regex(str(pattern), escape).fullmatch(str(value)) is not None


def install_unicode_like(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("like", 2, unicode_like, deterministic=True)
        connection.connection.create_function("like", 3, unicode_like, deterministic=True)


def connect() -> None:
    connection_created.connect(install_unicode_like, dispatch_uid="crm.sqlite.unicode_like")
