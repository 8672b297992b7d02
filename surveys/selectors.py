"""Reads of surveys: the settings, who a campaign would invite (the audience and the throttle),
an invitation by its token, and the reminders and expiries due."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from clients.models import ContactPerson, Settlement
from crm.access import scope_for_user
from crm.periods import add_months
from surveys import metrics, tokens
from surveys.models import (
    Answer,
    Campaign,
    EmailBounce,
    Invitation,
    SurveySettings,
    token_hash,
)

FILTER_KEYS = ("abc", "xyz", "lifecycle", "segment", "account_manager", "product_line")
NO_CLASS = "none"  # in the "abc"/"xyz" filters: clients without that class


def survey_settings() -> SurveySettings:
    """The settings record (created with the defaults by the data migration)."""
    return SurveySettings.objects.get_or_create(
        pk=1,
        defaults={
            "company_head_name": "",
            "company_head_title_ru": "Генеральный директор",
            "company_head_title_en": "Chief Executive Officer",
        },
    )[0]


def _class_filter(field: str, values: list) -> Q:
    wanted = [v for v in values if v != NO_CLASS]
    q = Q(**{f"client__metrics__{field}__in": wanted})
    if NO_CLASS in values:
        q |= Q(**{f"client__metrics__{field}__isnull": True})
    return q


def eligible_contacts(*, now: datetime | None = None) -> QuerySet[ContactPerson]:
    """Contacts a survey may go to now (the throttle): with an email, not opted out, their
    address never refused by the mail server, and no invitation within the quiet period — 90
    days by default, the client's ABC class's own period where the settings give one (A: 60)."""
    now = now or timezone.now()
    prefs = survey_settings()
    bounced = EmailBounce.objects.filter(email=Lower(OuterRef("email")))
    qs = (
        ContactPerson.objects.exclude(email="")
        .filter(survey_opt_out=False)
        .annotate(_bounced=Exists(bounced))
        .filter(_bounced=False)
    )
    last = Subquery(
        Invitation.objects.filter(contact=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    qs = qs.annotate(last_invited_at=last)
    overrides = {k: int(v) for k, v in (prefs.quiet_days_by_class or {}).items() if v != ""}
    quiet = Q(last_invited_at__isnull=True)
    classed = list(overrides)
    for abc_class, days in overrides.items():
        quiet |= Q(client__metrics__abc_class=abc_class, last_invited_at__lt=now - timedelta(days))
    default_cut = Q(last_invited_at__lt=now - timedelta(prefs.quiet_days))
    quiet |= default_cut & (
        ~Q(client__metrics__abc_class__in=classed) | Q(client__metrics__abc_class__isnull=True)
    )
    return qs.filter(quiet)


def audience(campaign: Campaign, *, now: datetime | None = None) -> QuerySet[ContactPerson]:
    """The contacts ``campaign`` would invite now: its filters, then the throttle.

    Filters (``Campaign.filters``, each a list; absent or empty = any): ``abc``, ``xyz``
    (classes, "none" for clients without one), ``lifecycle``, ``segment`` (target segment ids),
    ``account_manager`` (user ids), ``product_line`` (lines the client ever bought from), and
    ``not_surveyed_months`` (a number: only clients none of whose contacts was invited in that
    many months — the yearly relationship survey uses the settings' 12). Clients never
    surveyed come first, then those surveyed longest ago."""
    now = now or timezone.now()
    f = campaign.filters or {}
    qs = eligible_contacts(now=now)
    if f.get("abc"):
        qs = qs.filter(_class_filter("abc_class", f["abc"]))
    if f.get("xyz"):
        qs = qs.filter(_class_filter("xyz_class", f["xyz"]))
    if f.get("lifecycle"):
        qs = qs.filter(client__metrics__lifecycle__in=f["lifecycle"])
    if f.get("segment"):
        qs = qs.filter(client__target_segment_id__in=f["segment"])
    if f.get("account_manager"):
        qs = qs.filter(client__account_manager_id__in=f["account_manager"])
    if f.get("product_line"):
        bought = Settlement.objects.filter(
            client=OuterRef("client_id"), product__line_id__in=f["product_line"]
        )
        qs = qs.filter(Exists(bought))
    client_last = Subquery(
        Invitation.objects.filter(client=OuterRef("client_id"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    qs = qs.annotate(client_last_invited_at=client_last)
    months = f.get("not_surveyed_months")
    if months:
        since = add_months(timezone.localdate(now), -int(months))
        cut = datetime.combine(since, datetime.min.time(), tzinfo=timezone.get_current_timezone())
        qs = qs.filter(Q(client_last_invited_at__isnull=True) | Q(client_last_invited_at__lt=cut))
    return qs.select_related("client", "client__account_manager").order_by(
        # never surveyed first, then the longest ago
        F("client_last_invited_at").asc(nulls_first=True),
        "client_id",
        "id",
    )


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation of an emailed token, or None (unknown or tampered token); one read
    (``surveys.tokens``)."""
    if not token or len(token) > 100:
        return None
    return tokens.lookup(token_hash(token))


_ITEMS: dict[tuple, list] = {}


def invitation_items(invitation: Invitation) -> list:
    """``invitation.items()`` as a list, kept in this process per questionnaire version (its
    ``updated_at``: saving a questionnaire or its items moves it) and product line, so the
    answer page does not read the items on every request."""
    questionnaire = invitation.campaign.questionnaire
    key = (questionnaire.pk, questionnaire.updated_at, invitation.product_line_id)
    items = _ITEMS.get(key)
    if items is None:
        if len(_ITEMS) > 256:
            _ITEMS.clear()
        items = _ITEMS[key] = list(invitation.items())
    return items


def forget_items() -> None:
    _ITEMS.clear()


def language_for(contact: ContactPerson) -> str:
    """The contact's language, else the account manager's, else the site's."""
    codes = {code for code, _name in settings.LANGUAGES}
    manager = contact.client.account_manager
    for lang in (contact.language, getattr(manager, "language", ""), settings.LANGUAGE_CODE):
        if lang and lang[:2] in codes:
            return lang[:2]
    return "en"


def reminders_due(*, now: datetime | None = None) -> list[int]:
    """Invitations that get a reminder now: delivered and not answered, not expired, fewer
    reminders than the campaign allows, the last email (invitation or reminder) at least the
    campaign's gap ago, the contact not opted out and the address not refused."""
    now = now or timezone.now()
    rows = (
        Invitation.objects.filter(
            status__in=Invitation.WAITING,
            expires_at__gt=now,
            in_flight_since__isnull=True,
            contact__survey_opt_out=False,
            reminders_sent__lt=F("campaign__reminders_max"),
        )
        .exclude(Exists(EmailBounce.objects.filter(email=Lower(OuterRef("email")))))
        .values_list(
            "id",
            "reminders_sent",
            "sent_at",
            "last_reminder_at",
            "campaign__reminders_max",
            "campaign__reminder_gap_days",
        )
    )
    due = []
    for pk, sent_count, sent_at, last_at, most, gap in rows.iterator(chunk_size=2000):
        last = last_at or sent_at
        if sent_count < most and last is not None and now - last >= timedelta(days=gap):
            due.append(pk)
    return due


def anonymous_unhappy(*, campaign: Campaign | None = None) -> int:
    """Unhappy answers of anonymous campaigns whose respondent did not agree to be contacted:
    no case names them, so they are counted here (the closed loop never loses one silently)."""
    rows = Answer.objects.filter(
        unhappy=True, complaint__isnull=True, invitation__campaign__anonymous=True
    )
    if campaign is not None:
        rows = rows.filter(invitation__campaign=campaign)
    return rows.count()


def campaign_progress(campaign: Campaign) -> dict:
    """Counts by status for the campaign page's progress, and the response rate: answered ÷
    delivered (sent, opened, answered, expired — not queued, bounced or opted out before
    delivery), in per cent with one decimal; None before anything was delivered."""
    counts = dict.fromkeys(Invitation.Status.values, 0)
    rows = Invitation.objects.filter(campaign=campaign).values("status").annotate(n=Count("id"))
    counts.update({row["status"]: row["n"] for row in rows})
    delivered = sum(counts[s] for s in ("sent", "opened", "answered", "expired"))
    rate = metrics.share_pct(counts["answered"], delivered)
    return {"counts": counts, "total": sum(counts.values()), "response_rate": rate}


def _progress_of(counts: dict) -> dict:
    delivered = sum(counts[s] for s in ("sent", "opened", "answered", "expired"))
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "response_rate": metrics.share_pct(counts["answered"], delivered),
    }


def campaigns_progress(campaign_ids: list[int]) -> dict[int, dict]:
    """``campaign_progress`` of several campaigns in one query (the campaign list)."""
    result = {pk: dict.fromkeys(Invitation.Status.values, 0) for pk in campaign_ids}
    rows = (
        Invitation.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        result[row["campaign_id"]][row["status"]] = row["n"]
    return {pk: _progress_of(counts) for pk, counts in result.items()}


def campaign_invitations(campaign: Campaign, user) -> QuerySet[Invitation]:
    """The invitation rows of ``campaign`` that ``user`` may see (an account manager: those of
    their own clients), with the client and contact, and the answer's NPS where the campaign is
    not anonymous (never with the respondent otherwise)."""
    qs = scope_for_user(Invitation.objects.filter(campaign=campaign), user).select_related(
        "client", "contact"
    )
    if not campaign.anonymous:
        qs = qs.annotate(nps=F("answer__nps"))
    return qs.order_by("client__name", "contact__full_name", "id")
