"""Questionnaires and their satisfaction (CSAT) items: edited by managers, validated, audited."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from crm.models import AuditEntry, User
from crm.services import audit_record, save_with_audit
from surveys import rollup
from surveys.models import Questionnaire, QuestionnaireItem

QUESTIONNAIRE_FIELDS = [
    "code",
    "title_ru",
    "title_en",
    "intro_ru",
    "intro_en",
    "ask_nps",
    "ask_comment",
    "ask_liked",
    "ask_best_employee",
    "is_active",
]
ITEM_FIELDS = ["text_ru", "text_en", "order", "product_line"]


def _unique_code(title: str, questionnaire: Questionnaire) -> str:
    base = slugify(title)[:40] or "questionnaire"
    code, n = base, 1
    others = Questionnaire.objects.exclude(pk=questionnaire.pk)
    while others.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def _item_label(item: QuestionnaireItem) -> str:
    return f"{item.order}. {item.text_ru} / {item.text_en}" + (
        f" [{item.product_line_id}]" if item.product_line_id else ""
    )


@transaction.atomic
def questionnaire_save(
    *,
    actor: User,
    data: dict,
    items: list[dict] | None = None,
    questionnaire: Questionnaire | None = None,
) -> Questionnaire:
    """Create or edit a questionnaire and, when ``items`` is given, its CSAT items: each a dict
    of ``text_ru``, ``text_en``, ``order``, ``product_line`` and, for an existing one, ``id``;
    ``delete``: True removes it (refused once answers score it). An item left out stays.
    A questionnaire asks something: the NPS question or at least one item. Audited: the
    questionnaire's fields, and the items before and after as a list."""
    unknown = set(data) - set(QUESTIONNAIRE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    questionnaire = questionnaire or Questionnaire()
    data = dict(data)
    if not data.get("code") and not questionnaire.code:
        data["code"] = _unique_code(
            data.get("title_en") or data.get("title_ru") or "", questionnaire
        )
    questionnaire = save_with_audit(actor=actor, instance=questionnaire, data=data)
    if items is None:
        items_left = questionnaire.items.exists()
    else:
        existing = {item.pk: item for item in questionnaire.items.all()}
        lines_moved = False  # an answered item moved to another product line
        before = sorted(_item_label(i) for i in existing.values())
        for row in items:
            pk = row.get("id")
            pk = getattr(pk, "pk", pk)
            item = existing.get(int(pk)) if pk else QuestionnaireItem(questionnaire=questionnaire)
            if item is None:
                raise ValidationError({"items": _("An item of another questionnaire.")})
            if row.get("delete"):
                if item.pk:
                    if item.scores.exists():
                        raise ValidationError(
                            {
                                "items": _("“%(item)s” has answers: it cannot be removed.")
                                % {"item": item.text("text")}
                            }
                        )
                    item.delete()
                    existing.pop(item.pk, None)
                continue
            line_before = item.product_line_id
            for name in ITEM_FIELDS:
                if name in row:
                    setattr(item, name, row[name])
            if item.pk and item.product_line_id != line_before and item.scores.exists():
                lines_moved = True
            try:
                item.full_clean()
            except ValidationError as exc:
                raise ValidationError({"items": exc.messages}) from exc
            item.save()
            existing[item.pk] = item
        after = sorted(_item_label(i) for i in existing.values())
        if after != before:
            audit_record(
                actor=actor,
                instance=questionnaire,
                action=AuditEntry.Action.UPDATE,
                changes={"items": [before, after]},
            )
        items_left = bool(existing)
        if lines_moved:
            rollup.rebuild()  # the answers' product-line figures follow the item (rare)
    if not questionnaire.ask_nps and not items_left:
        raise ValidationError(
            {"ask_nps": _("Ask the NPS question or add at least one satisfaction item.")}
        )
    return questionnaire
