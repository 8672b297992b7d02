"""Reads of the core package."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet

from crm.models import AuditEntry


def audit_for_object(instance: Model) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
    ).select_related("actor")
