"""The survey settings record: quiet periods, pace, the signing head."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import AuditEntry, User
from crm.services import audit_record, diff, snapshot
from segmentation.models import AbcClass
from surveys.models import SurveySettings
from surveys.selectors import survey_settings

SETTINGS_FIELDS = [
    "quiet_days",
    "quiet_days_by_class",
    "resurvey_months",
    "send_rate_per_minute",
    "company_head_name",
    "company_head_title_ru",
    "company_head_title_en",
]


@transaction.atomic
def survey_settings_update(*, actor: User, data: dict[str, Any]) -> SurveySettings:
    """Change the settings (audited). ``quiet_days_by_class``: {"A": 60, …}, whole days from
    0 to 730 for classes A, B or C; a class left out uses ``quiet_days``."""
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    obj = SurveySettings.objects.select_for_update().get(pk=survey_settings().pk)
    before = snapshot(obj, SETTINGS_FIELDS)
    for name, value in data.items():
        setattr(obj, name, value)
    by_class = {}
    for key, value in (obj.quiet_days_by_class or {}).items():
        if value in (None, ""):
            continue
        try:
            days = int(value)
        except (TypeError, ValueError):
            days = -1
        if key not in AbcClass.values or not 0 <= days <= 730:
            raise ValidationError(
                {"quiet_days_by_class": _("A quiet period per class: A, B or C, 0 to 730 days.")}
            )
        by_class[key] = days
    obj.quiet_days_by_class = by_class
    obj.full_clean()
    obj.save()
    changes = diff(before, snapshot(obj, SETTINGS_FIELDS))
    if changes:
        audit_record(actor=actor, instance=obj, action=AuditEntry.Action.UPDATE, changes=changes)
    return obj
