"""Services of the pipeline's configuration (managers): pipelines with their stages, refusal
categories, the sales settings. Each runs in one transaction, validates and audits; a refusal
raises ``ValidationError`` and saves nothing.

Rules of a pipeline's stages: at least one open stage, exactly one "won" and one "lost" stage
among the active ones (a deal is won or lost into them); a stage that deals are in, were lost at
or passed through is never deleted (make it inactive) and never changes its kind (a deal's state
is a copy of its stage's kind)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from crm.models import AuditEntry, User
from crm.services import audit_record, save_with_audit
from sales.models import Deal, Pipeline, RefusalCategory, SalesSettings, Stage, StageKind, StageLog

PIPELINE_FIELDS = ["code", "name_ru", "name_en", "product_line", "is_active", "order"]
STAGE_FIELDS = [
    "name_ru",
    "name_en",
    "order",
    "kind",
    "probability",
    "expected_days",
    "exit_criteria_ru",
    "exit_criteria_en",
    "is_active",
]
REFUSAL_FIELDS = ["code", "name_ru", "name_en", "is_active", "order"]
SETTINGS_FIELDS = ["class_a_ageing_pct", "red_ageing_pct"]


def _stage_used(stage: Stage) -> bool:
    return (
        Deal.objects.filter(Q(stage=stage) | Q(lost_at_stage=stage)).exists()
        or StageLog.objects.filter(Q(to_stage=stage) | Q(from_stage=stage)).exists()
    )


def _label(stage: Stage) -> str:
    return f"{stage.order}. {stage.name_en} / {stage.name_ru} ({stage.kind}, {stage.probability}%)"


@transaction.atomic
def pipeline_save(
    *,
    actor: User,
    data: dict,
    stages: list[dict] | None = None,
    pipeline: Pipeline | None = None,
) -> Pipeline:
    """Create or edit a pipeline and, when ``stages`` is given, its stages: each a dict of
    ``STAGE_FIELDS`` and, for an existing stage, ``id``; ``delete``: True removes it (refused
    once a deal used it). A stage left out stays as it is."""
    unknown = set(data) - set(PIPELINE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    pipeline = save_with_audit(actor=actor, instance=pipeline or Pipeline(), data=data)
    existing = {s.pk: s for s in pipeline.stages.all()}
    before = sorted(_label(s) for s in existing.values())
    for row in stages or []:
        pk = row.get("id")
        pk = getattr(pk, "pk", pk)
        stage = existing.get(int(pk)) if pk else Stage(pipeline=pipeline)
        if stage is None:
            raise ValidationError({"stages": _("A stage of another pipeline.")})
        if row.get("delete"):
            if stage.pk:
                if _stage_used(stage):
                    raise ValidationError(
                        {
                            "stages": _(
                                "“%(stage)s” has deals: it cannot be removed; make it inactive."
                            )
                            % {"stage": stage.name}
                        }
                    )
                existing.pop(stage.pk)
                stage.delete()
            continue
        if stage.pk and row.get("kind", stage.kind) != stage.kind and _stage_used(stage):
            raise ValidationError(
                {
                    "stages": _("“%(stage)s” has deals: its kind cannot change.")
                    % {"stage": stage.name}
                }
            )
        for name in STAGE_FIELDS:
            if name in row and row[name] is not None:
                setattr(stage, name, row[name])
        try:
            stage.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {
                    "stages": [
                        f"{stage.name or '?'}: {k}: {m}"
                        for k, ms in exc.message_dict.items()
                        for m in ms
                    ]
                }
            ) from None
        stage.save()
        existing[stage.pk] = stage
    active = [s for s in existing.values() if s.is_active]
    kinds = [s.kind for s in active]
    if kinds.count(StageKind.OPEN) < 1:
        raise ValidationError({"stages": _("A pipeline needs at least one open stage.")})
    if kinds.count(StageKind.WON) != 1 or kinds.count(StageKind.LOST) != 1:
        raise ValidationError(
            {"stages": _("A pipeline needs exactly one active “won” and one active “lost” stage.")}
        )
    after = sorted(_label(s) for s in existing.values())
    if stages is not None and after != before:
        audit_record(
            actor=actor,
            instance=pipeline,
            action=AuditEntry.Action.UPDATE,
            changes={"stages": [before, after]},
        )
    return pipeline


@transaction.atomic
def refusal_save(*, actor: User, data: dict, refusal: RefusalCategory | None = None):
    unknown = set(data) - set(REFUSAL_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    return save_with_audit(actor=actor, instance=refusal or RefusalCategory(), data=data)


@transaction.atomic
def sales_settings_update(*, actor: User, data: dict) -> SalesSettings:
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    return save_with_audit(actor=actor, instance=SalesSettings.load(), data=data)
