"""Comment themes of survey answers: a person tags an answer with complaint themes
(``answer_themes_set``), and keyword rules suggest themes for untagged comments
(``suggest_themes``). See docs/domain.md, "Surveys"."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import AuditEntry
from crm.services import audit_record, delete_with_audit, save_with_audit
from feedback.models import Theme
from surveys import analytics, rollup
from surveys.models import Answer, ThemeKeyword


def can_tag(user, answer: Answer) -> bool:
    """Managers tag any answer (anonymous ones too); an account manager the answers of their
    own clients in named campaigns — the answers they can list."""
    if not getattr(user, "is_authenticated", False):
        return False
    return analytics.answers_for(user).filter(pk=answer.pk).exists()


def _theme_ids(themes: Iterable) -> list[int]:
    ids = []
    for t in themes:
        value = t.pk if isinstance(t, Theme) else t
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError(
                {"themes": _("Unknown theme: %(value)s.") % {"value": value}}, code="invalid"
            ) from None
    return sorted(set(ids))


@transaction.atomic
def answer_themes_set(*, actor, answer: Answer, themes: Iterable) -> list[Theme]:
    """Set the answer's comment themes (ids or Theme objects). Raises PermissionDenied when
    ``actor`` may not tag this answer, ValidationError (nothing changed) on an unknown or
    inactive theme."""
    if not can_tag(actor, answer):
        raise PermissionDenied(_("You cannot tag this answer."))
    ids = _theme_ids(themes)
    chosen = list(Theme.objects.filter(pk__in=ids, is_active=True))
    missing = set(ids) - {t.pk for t in chosen}
    if missing:
        raise ValidationError(
            {
                "themes": _("Unknown theme: %(value)s.")
                % {"value": ", ".join(str(i) for i in sorted(missing))}
            },
            code="invalid",
        )
    before = sorted(answer.themes.values_list("code", flat=True))
    after = sorted(t.code for t in chosen)
    if before != after:
        rollup.themes_changed(answer, before=True)
        answer.themes.set(chosen)
        rollup.themes_changed(answer, before=False)
        audit_record(
            actor=actor,
            instance=answer,
            action=AuditEntry.Action.UPDATE,
            changes={"themes": [before, after]},
        )
        transaction.on_commit(analytics.bump_version)
    return chosen


def keyword_rules() -> list[tuple[str, Theme]]:
    """Every keyword (lower-cased) with its theme: one query."""
    return [
        (k.text.casefold(), k.theme)
        for k in ThemeKeyword.objects.select_related("theme").filter(theme__is_active=True)
    ]


def match_themes(text: str, rules: list[tuple[str, Theme]]) -> list[Theme]:
    """The themes whose keywords occur in ``text`` (any case), in the themes' order."""
    haystack = text.casefold()
    found = {theme.pk: theme for keyword, theme in rules if keyword and keyword in haystack}
    return sorted(found.values(), key=lambda t: (t.order, t.pk))


def suggest_themes(answers: Iterable[Answer]) -> dict[int, list[Theme]]:
    """Suggested themes of the untagged answers among ``answers`` (a page's rows, with their
    themes prefetched), from the comment and the "liked" text."""
    rules = keyword_rules()
    out = {}
    for a in answers:
        if a.themes.all():
            continue
        found = match_themes(f"{a.comment}\n{a.liked}", rules)
        if found:
            out[a.pk] = found
    return out


def _manager(actor) -> None:
    if not getattr(actor, "sees_everything", False):
        raise PermissionDenied(_("Only managers edit theme keywords."))


@transaction.atomic
def theme_keyword_add(*, actor, theme: Theme, language: str, text: str) -> ThemeKeyword:
    """Add a keyword rule (managers). Raises ValidationError on an empty or repeated keyword."""
    _manager(actor)
    text = (text or "").strip().casefold()
    if ThemeKeyword.objects.filter(theme=theme, language=language, text=text).exists():
        raise ValidationError({"text": _("This keyword is already there.")}, code="unique")
    return save_with_audit(
        actor=actor,
        instance=ThemeKeyword(),
        data={"theme": theme, "language": language, "text": text},
    )


@transaction.atomic
def theme_keyword_delete(*, actor, keyword: ThemeKeyword) -> None:
    _manager(actor)
    delete_with_audit(actor=actor, instance=keyword)
