"""The KPI digest (docs/domain.md, "Manager dashboard"): an email with the dashboard's cards —
each value, the change against the previous period and the link to the list behind it — in the
recipient's language, computed with the recipient's scope (an account manager's own figures).

Each user chooses daily (yesterday), weekly (on Mondays, the last 7 days) or monthly (on the
1st, the last month), or never; the beat task runs every morning and sends the digests due
that day. A user is claimed with a conditional update of ``kpi_digest_sent_on`` before the
email goes out, so two beat runs (or two workers) send one digest a day at most; a failed send
gives the day back for the next run."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from crm import beacons
from crm import dashboard as kpi
from crm.models import User
from crm.periods import Period, add_months, month_start

log = logging.getLogger(__name__)


def digest_period(choice: str, today: date) -> Period | None:
    """The period a digest sent ``today`` covers, or None when none is due today."""
    if choice == User.Digest.DAILY:
        return Period(today - timedelta(days=1), today)
    if choice == User.Digest.WEEKLY and today.weekday() == 0:
        return Period(today - timedelta(days=7), today)
    if choice == User.Digest.MONTHLY and today.day == 1:
        return Period(add_months(month_start(today), -1), month_start(today))
    return None


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def digest_content(user: User, period: Period, today: date) -> tuple[str, str]:
    """The subject and the text of ``user``'s digest, in the active language."""
    ctx = kpi.KpiContext(period=period, user=user, today=today)
    board = kpi.cached_board(ctx, table=False)
    groups = {g.key: g.label for g in kpi.groups()}
    sections: dict[str, list[dict]] = {}
    for card in kpi.cards(managers=user.sees_everything):
        result = board.results[card.key]
        sections.setdefault(str(groups.get(card.group, card.group)), []).append(
            {
                "label": card.label,
                "value": kpi.display(result.figure),
                "change": kpi.display_change(result.change) if card.compare else "",
                "url": _absolute(result.figure.url) if result.figure.url else "",
            }
        )
    query = urlencode({"kind": "custom", "start": period.start, "end": period.last_day})
    start = date_format(period.start, "SHORT_DATE_FORMAT")
    end = date_format(period.last_day, "SHORT_DATE_FORMAT")
    subject = _("KPI digest: %(start)s – %(end)s") % {"start": start, "end": end}
    body = render_to_string(
        "crm/email/kpi_digest.txt",
        {
            "user": user,
            "start": start,
            "end": end,
            "sections": sections,
            "beacons": [
                {"name": rule.name, "url": _absolute(rule.state.url) if rule.state.url else ""}
                for rule in beacons.firing_for(user)
            ],
            "dashboard_url": _absolute(f"/?{query}"),
            "profile_url": _absolute("/profile/"),
        },
    )
    return subject, body


def send_digest(user: User, period: Period, today: date) -> None:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject, body = digest_content(user, period, today)
    EmailMessage(subject, body, to=[user.email]).send()


def send_due_digests(today: date | None = None) -> int:
    """Send the digests due ``today`` (the site's day); returns how many went out."""
    today = today or timezone.localdate()
    sent = 0
    candidates = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .exclude(kpi_digest=User.Digest.OFF)
        .exclude(kpi_digest_sent_on=today)
        .order_by("pk")
    )
    for user in candidates:
        period = digest_period(user.kpi_digest, today)
        if period is None:
            continue
        before = user.kpi_digest_sent_on
        claimed = User.objects.filter(pk=user.pk, kpi_digest_sent_on=before).update(
            kpi_digest_sent_on=today
        )
        if not claimed:  # another run took it
            continue
        try:
            send_digest(user, period, today)
        except Exception:
            log.exception("KPI digest to user %s failed", user.pk)
            User.objects.filter(pk=user.pk, kpi_digest_sent_on=today).update(
                kpi_digest_sent_on=before
            )
            continue
        sent += 1
    return sent
