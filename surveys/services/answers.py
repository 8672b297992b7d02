"""What the respondent does on the answer page: open the link, answer once, opt out; and the
closed loop — an unhappy answer opens a complaint case for the client's account manager."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import rawsql
from crm.models import AuditEntry, User
from crm.rawsql import Insert, Update
from crm.services import audit_record
from feedback.models import Complaint, Theme
from feedback.services import complaint_register
from surveys import analytics, metrics, rollup, tokens
from surveys.models import COMMENT_MAX_LENGTH, Answer, AnswerItem, Invitation, token_hash

S = Invitation.Status
SURVEY_THEME = "survey-feedback"  # seeded by surveys/migrations/0002


class AnswerState:
    """What the answer page shows for an invitation's link."""

    OPEN = "open"  # the form
    ANSWERED = "answered"  # thank you (200)
    EXPIRED = "expired"  # gone (410)
    OPTED_OUT = "opted_out"  # gone (410)


def answer_state(invitation: Invitation, now: datetime | None = None) -> str:
    now = now or timezone.now()
    if invitation.status == S.ANSWERED:
        return AnswerState.ANSWERED
    if invitation.status == S.OPTED_OUT or invitation.contact.survey_opt_out:
        return AnswerState.OPTED_OUT
    if invitation.status == S.EXPIRED or (
        invitation.expires_at is not None and invitation.expires_at <= now
    ):
        return AnswerState.EXPIRED
    return AnswerState.OPEN


def invitation_open_by_token(token: str, *, now: datetime | None = None) -> Invitation | None:
    """The answer page's GET: the invitation of an emailed token (None: unknown or tampered),
    marked opened if it was queued or sent and its link is open — one statement on PostgreSQL
    (``surveys.tokens``)."""
    if not token or len(token) > 100:
        return None
    return tokens.lookup_and_open(token_hash(token), now or timezone.now())


def invitation_open(*, invitation: Invitation, now: datetime | None = None) -> bool:
    """The link was opened: queued or sent → opened (once; a conditional update, no race)."""
    now = now or timezone.now()
    done = Invitation.objects.filter(pk=invitation.pk, status__in=(S.QUEUED, S.SENT)).update(
        status=S.OPENED, opened_at=now
    )
    if done:
        invitation.status, invitation.opened_at = S.OPENED, now
    return bool(done)


def _int(value, field: str, low: int, high: int, message: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: message}) from exc
    if not low <= number <= high:
        raise ValidationError({field: message})
    return number


def _clean(invitation: Invitation, data: dict[str, Any], items=None) -> dict[str, Any]:
    """Check every answer before anything is stored; messages name the field."""
    q = invitation.campaign.questionnaire
    errors: dict[str, list] = {}

    def check(fn):
        try:
            return fn()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
            return None

    nps = check(lambda: _int(data.get("nps"), "nps", 0, 10, _("Choose a score from 0 to 10.")))
    if q.ask_nps and nps is None and "nps" not in errors:
        errors["nps"] = [_("Please choose a score from 0 to 10.")]
    scores = {}
    lines = {
        item.pk: item.product_line_id for item in (invitation.items() if items is None else items)
    }
    item_ids = set(lines)
    for key, value in (data.get("items") or {}).items():
        if int(key) not in item_ids:
            errors.setdefault("__all__", []).append(_("This question is not in the survey."))
            continue
        score = check(
            lambda k=key, v=value: _int(v, f"item_{k}", 1, 5, _("Choose a score from 1 to 5."))
        )
        if score is not None:
            scores[int(key)] = score
    texts = {}
    for name in ("comment", "liked"):
        text = str(data.get(name) or "").strip()
        if len(text) > COMMENT_MAX_LENGTH:
            errors[name] = [_("At most %(n)s characters, please.") % {"n": COMMENT_MAX_LENGTH}]
        texts[name] = text
    best = data.get("best_employee")
    if best not in (None, ""):
        best = User.objects.filter(pk=getattr(best, "pk", best), is_active=True).first()
        if best is None:
            errors["best_employee"] = [_("Choose an employee from the list.")]
    if errors:
        raise ValidationError(errors)
    return {
        "nps": nps,
        "scores": scores,
        "lines": lines,
        "best_employee": best or None,
        "may_contact": bool(data.get("may_contact")) and invitation.campaign.anonymous,
        **texts,
    }


def answer_submit(
    *, invitation: Invitation, data: dict[str, Any], items=None, now: datetime | None = None
) -> Answer:
    """Store the one answer of ``invitation`` and run the closed loop.

    ``data``: ``nps`` (0–10, required when the questionnaire asks it), ``items`` ({item id:
    1–5}), ``comment``, ``liked``, ``best_employee``, ``may_contact`` (anonymous campaigns).
    Bad input: ValidationError by field, nothing stored. A second submit (a double click, two
    tabs racing) returns the answer stored first — the unique constraint on the invitation
    decides — never a second record. ``items``: the invitation's
    items when the caller has them already (default: read them)."""
    now = now or timezone.now()
    if answer_state(invitation, now) in (AnswerState.EXPIRED, AnswerState.OPTED_OUT):
        raise ValidationError(_("This survey link is no longer valid."))
    clean = _clean(invitation, data, items)
    try:
        with transaction.atomic():
            answer = _store(invitation, clean, now)
    except IntegrityError:
        # the race's loser (a double click, two tabs): the answer stored first stands
        existing = Answer.objects.filter(invitation=invitation).first()
        if existing is None:
            raise
        return existing
    return answer


# the answer page's writes as plain SQL built once (crm.rawsql; no receiver listens to them)
_insert_answer = Insert(Answer)
_mark_answered = Update(Invitation, ("status", "answered_at", "in_flight_since"))


def _insert_and_mark(answer: Answer, invitation_id: int, now: datetime) -> tuple | None:
    """Insert ``answer`` and mark its invitation answered; on PostgreSQL one statement, which
    also reads the client's rollup keys FOR SHARE (``rollup.keys_sql``) and returns them — None
    where SQLite needs it done apart, or the client has no keys row yet."""
    mark = (S.ANSWERED, now, None)
    connection = connections[Answer.objects.db]
    if connection.vendor != "postgresql":
        _insert_answer(answer)
        _mark_answered(invitation_id, *mark)
        return None
    # statements built from the models' metadata; every value a parameter
    sql = (
        f"WITH u AS ({_mark_answered.sql(connection)}), a AS ({_insert_answer.sql(connection)})"  # noqa: S608
        f" SELECT a.id, k.* FROM a LEFT JOIN ({rollup.keys_sql(connection)}) k ON true"
    )
    params = [
        *_mark_answered.params(invitation_id, mark, connection),
        *_insert_answer.params(answer, connection),
        answer.client_id,
    ]
    with connection.cursor() as cursor:
        rawsql.execute(cursor, sql, params)  # planned once per connection
        row = cursor.fetchone()
    Insert.inserted(answer, row[0], connection)
    return tuple(row[2:]) if row[1] else None


def _store(invitation: Invitation, clean: dict[str, Any], now: datetime) -> Answer:
    answer = Answer(
        invitation=invitation,
        campaign_id=invitation.campaign_id,
        client_id=invitation.client_id,
        anonymous=invitation.campaign.anonymous,
        nps=clean["nps"],
        comment=clean["comment"],
        liked=clean["liked"],
        best_employee=clean["best_employee"],
        may_contact=clean["may_contact"],
        unhappy=metrics.is_unhappy(clean["nps"], clean["scores"].values()),
        submitted_at=now,
    )
    answer.set_item_sums(clean["scores"].values())
    keys = _insert_and_mark(answer, invitation.pk, now)  # the unique invitation: one answer
    AnswerItem.objects.bulk_create(
        [AnswerItem(answer=answer, item_id=k, score=v) for k, v in clean["scores"].items()]
    )
    rollup.add_answer(answer, clean["scores"], clean["lines"], keys)  # the analytics' sums
    invitation.status, invitation.answered_at = S.ANSWERED, now
    if answer.unhappy:
        _close_the_loop(answer=answer, invitation=invitation, now=now)
    # the cached analytics reports go stale once the answer is committed
    transaction.on_commit(analytics.bump_version)
    return answer


def _responsible(client) -> User | None:
    """The client's account manager; a client without one goes to the first active manager."""
    if client.account_manager_id and client.account_manager.is_active:
        return client.account_manager
    return (
        User.objects.filter(is_active=True, role=User.Role.MANAGER).order_by("id").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("id").first()
    )


def _case_text(answer: Answer, invitation: Invitation) -> str:
    lines = [_("Unhappy survey answer (%(campaign)s).") % {"campaign": invitation.campaign}]
    if invitation.source_complaint_id:
        lines.append(
            _("Survey after the closed complaint #%(n)s.") % {"n": invitation.source_complaint_id}
        )
    if answer.nps is not None:
        lines.append(_("Likelihood to recommend: %(n)s of 10.") % {"n": answer.nps})
    for row in answer.items.select_related("item").order_by("item__order", "item_id"):
        lines.append(f"{row.item.text('text')}: {row.score}/5")
    if answer.comment:
        lines.append(_("Comment: %(text)s") % {"text": answer.comment})
    return "\n".join(lines)


def _close_the_loop(*, answer: Answer, invitation: Invitation, now: datetime) -> None:
    """An unhappy answer opens a case for the client's account manager — unless the campaign
    is anonymous and the respondent did not agree to be contacted: then no case names them and
    the answer counts as an anonymous unhappy answer (``selectors.anonymous_unhappy``)."""
    campaign = invitation.campaign
    if campaign.anonymous and not answer.may_contact:
        return
    responsible = _responsible(invitation.client)
    # seeded by the migration; made again if a manager deleted it, so no case is ever lost
    theme = Theme.objects.get_or_create(
        code=SURVEY_THEME,
        defaults={"name_en": "Unhappy survey answer", "name_ru": "Недовольство в опросе"},
    )[0]
    with translation.override(getattr(responsible, "language", "") or settings.LANGUAGE_CODE):
        description = _case_text(answer, invitation)
    # registered by the survey itself (actor None: "system" in the audit log), so the account
    # manager is notified of the new case like of any case assigned to them
    complaint = complaint_register(
        actor=None,
        client=invitation.client,
        contact=invitation.contact,
        theme=theme,
        description=description,
        channel=Complaint.Channel.SURVEY,
        responsible=responsible,
        now=now,
    )
    Answer.objects.filter(pk=answer.pk).update(complaint=complaint)
    answer.complaint = complaint


@transaction.atomic
def contact_opt_out(*, invitation: Invitation, now: datetime | None = None) -> int:
    """The respondent opted out: the contact gets no more surveys, and their invitations not
    yet answered are closed (no reminder). Returns the invitations closed."""
    now = now or timezone.now()
    contact = invitation.contact
    if not contact.survey_opt_out:
        contact.survey_opt_out = True
        contact.save(update_fields=["survey_opt_out", "updated_at"])
        audit_record(
            actor=None,
            instance=contact,
            action=AuditEntry.Action.UPDATE,
            changes={"survey_opt_out": [False, True]},
            note="opted out by the survey link",
        )
    return Invitation.objects.filter(contact=contact, status__in=Invitation.OPEN).update(
        status=S.OPTED_OUT, closed_at=now
    )
