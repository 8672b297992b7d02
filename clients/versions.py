"""The data version of the client base (``crm.cache.DataVersion``): the writes the dashboard's
client figures depend on (clients, settlements, contacts and promises, a segmentation run's new
classes) bump it after their commit, so every cached dashboard is recomputed
(docs/decisions/dashboard.md)."""

from django.db import transaction

from crm.cache import DataVersion

VERSION = DataVersion("clients:data:version")


def bump_after_commit() -> None:
    transaction.on_commit(VERSION.bump, robust=True)
