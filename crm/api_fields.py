"""Serializer fields that refer to rows the requesting user may see."""

from rest_framework import serializers

from crm.access import scope_if_owned


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id limited to what the requesting user may see (``crm.access``): an id of
    another account manager's row gets the same "object does not exist" answer as an id that
    does not exist. Without a request (no user) nothing owned is accepted."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        return scope_if_owned(queryset, getattr(request, "user", None))
