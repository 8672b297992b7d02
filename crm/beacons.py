"""Beacons: KPI rules evaluated by beat (docs/domain.md, "Beacons"; docs/decisions/dashboard.md,
"Beacons: evaluation and notify-once").

A rule watches a metric (``crm.dashboard.metrics()``: every card and every registered beacon
metric) in a scope, compares its value — or its change in % against the previous period — with
a threshold, and keeps a state: normal → firing → recovered → normal. Every change of state is
an event (append-only); the changes into "firing" and "recovered" notify the recipients (an
in-app notice and an email in their language, with the link to the list behind the figure), at
most once per rule per repeat interval. "recovered" turns "normal" once a repeat interval has
passed without firing again (an event, no notification).

The evaluation computes the figure without a lock, then moves the state under
``select_for_update`` of the rule's state row, re-reading it: of two concurrent runs the second
finds the state already moved and does nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import dashboard as kpi
from crm.models import BeaconEvent, BeaconNotice, BeaconRule, BeaconState, User
from crm.periods import Period, add_months, month_start

log = logging.getLogger(__name__)

State = BeaconState.State
PREVIEW_MONTHS = 12


class SystemViewer:
    """The viewer a rule is computed for: sees every row; the rule's scope narrows it."""

    pk = None
    id = None
    is_authenticated = True
    is_active = True
    is_superuser = True
    sees_everything = True


SYSTEM = SystemViewer()


def holds(value, operator: str, threshold) -> bool:
    if value is None:
        return False
    value, threshold = Decimal(value), Decimal(threshold)
    return {
        "<": value < threshold,
        "<=": value <= threshold,
        ">": value > threshold,
        ">=": value >= threshold,
        "=": value == threshold,
    }[operator]


def context(rule: BeaconRule, period: Period, today: date, user=None) -> kpi.KpiContext:
    """The dashboard context of ``rule``'s scope (computed as ``user``, default: every row)."""
    filters: dict[str, Any] = {}
    account_manager = None
    if rule.scope == BeaconRule.Scope.ACCOUNT_MANAGER:
        account_manager = rule.scope_account_manager_id
    elif rule.scope == BeaconRule.Scope.SEGMENT:
        filters["segment"] = rule.scope_segment
    elif rule.scope == BeaconRule.Scope.CLASS:
        filters["abc"] = rule.scope_class
    return kpi.KpiContext(
        period=period,
        user=user or SYSTEM,
        today=today,
        account_manager=account_manager,
        filters=filters,
        series=False,  # a rule compares the value only
    )


@dataclass(frozen=True)
class Reading:
    value: Decimal | None  # what is compared: the value or the change in %
    url: str


def window(rule: BeaconRule, today: date) -> Period:
    """A period metric's period: the last ``window_days`` days up to today."""
    return Period(today - timedelta(days=rule.window_days - 1), today + timedelta(days=1))


def read(rule: BeaconRule, period: Period, today: date) -> Reading:
    metric = kpi.metrics().get(rule.metric)
    if metric is None:
        return Reading(None, "")
    ctx = context(rule, period, today)
    figure = metric.compute(ctx)
    if rule.compare == BeaconRule.Compare.CHANGE:
        if not metric.period:
            return Reading(None, figure.url)
        before = metric.compute(ctx.for_previous())
        return Reading(kpi.change_pct(figure.value, before.value), figure.url)
    value = None if figure.value is None else Decimal(figure.value)
    return Reading(value, figure.url)


def recipients(rule: BeaconRule) -> list[User]:
    chosen = list(rule.recipients.filter(is_active=True))
    if not chosen:
        chosen = list(
            User.objects.filter(is_active=True, role__in=[User.Role.MANAGER, User.Role.ADMIN])
        )
    if rule.scope == BeaconRule.Scope.ACCOUNT_MANAGER and rule.scope_account_manager:
        am = rule.scope_account_manager
        if am.is_active and am not in chosen:
            chosen.append(am)
    return chosen


def _next_state(current: str, firing: bool, since: datetime | None, now, rule) -> str:
    if firing:
        return State.FIRING
    if current == State.FIRING:
        return State.RECOVERED
    if current == State.RECOVERED and (
        since is None or now - since >= timedelta(hours=rule.repeat_hours)
    ):
        return State.NORMAL
    return current


def evaluate(rule: BeaconRule, *, now: datetime | None = None) -> BeaconEvent | None:
    """Evaluate ``rule`` once; returns the event written (None: no change of state)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reading = read(rule, window(rule, today), today)
    firing = holds(reading.value, rule.operator, rule.threshold)
    with transaction.atomic():
        BeaconState.objects.get_or_create(rule=rule)
        state = BeaconState.objects.select_for_update().get(rule=rule)
        new = _next_state(state.state, firing, state.since, now, rule)
        state.value, state.checked_at = reading.value, now
        if reading.url:
            state.url = reading.url
        event = None
        if new != state.state:
            due = state.notified_at is None or now - state.notified_at >= timedelta(
                hours=rule.repeat_hours
            )
            notify = new in (State.FIRING, State.RECOVERED) and due
            event = BeaconEvent.objects.create(
                rule=rule,
                at=now,
                from_state=state.state,
                to_state=new,
                value=reading.value,
                threshold=rule.threshold,
                url=reading.url or state.url,
                notified=notify,
            )
            state.state, state.since = new, now
            if notify:
                state.notified_at = now
                people = recipients(rule)
                BeaconNotice.objects.bulk_create(
                    [BeaconNotice(recipient=u, event=event, created_at=now) for u in people]
                )
                transaction.on_commit(lambda: send_emails(event.pk))
        state.save()
    return event


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def message(event: BeaconEvent) -> tuple[str, str]:
    """The subject and the text of ``event``'s email, in the active language."""
    rule = event.rule
    if event.to_state == State.FIRING:
        subject = _("Beacon fired: %(name)s") % {"name": rule.name}
    else:
        subject = _("Beacon recovered: %(name)s") % {"name": rule.name}
    lines = [
        subject,
        _("Value: %(value)s, threshold: %(op)s %(threshold)s")
        % {
            "value": "—" if event.value is None else event.value,
            "op": rule.operator,
            "threshold": event.threshold,
        },
    ]
    if event.url:
        lines.append(_("The list behind it: %(url)s") % {"url": _absolute(event.url)})
    lines.append(_("The rule: %(url)s") % {"url": _absolute(f"/beacons/{rule.pk}/")})
    return subject, "\n".join(lines) + "\n"


def send_emails(event_id: int) -> int:
    event = BeaconEvent.objects.select_related("rule").get(pk=event_id)
    sent = 0
    for notice in event.notices.select_related("recipient"):
        user = notice.recipient
        if not user.email:
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject, body = message(event)
        try:
            EmailMessage(subject, body, to=[user.email]).send()
            sent += 1
        except Exception:
            log.exception("beacon email to user %s failed", user.pk)
    return sent


def evaluate_all(*, now: datetime | None = None) -> int:
    """Beat: evaluate every active rule; returns the number of changes of state."""
    changed = 0
    for rule in BeaconRule.objects.filter(active=True).select_related("scope_account_manager"):
        try:
            if evaluate(rule, now=now):
                changed += 1
        except Exception:
            log.exception("beacon rule %s failed", rule.pk)
    return changed


# --- the preview --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preview:
    fired: int | None  # months in which the condition held (None: a metric of "now")
    months: int
    rows: tuple[tuple[date, Decimal | None, bool], ...] = ()


def preview(rule: BeaconRule, today: date) -> Preview:
    """How often would ``rule`` have fired over the last 12 full months: the metric computed for
    each month with the card's own function (12 evaluations, 24 with a change), counting the
    months where the condition held. A metric "as of now" has no history: None."""
    metric = kpi.metrics().get(rule.metric)
    if metric is None or not metric.period:
        return Preview(None, PREVIEW_MONTHS)
    rows = []
    end = month_start(today)
    for i in range(PREVIEW_MONTHS, 0, -1):
        start = add_months(end, -i)
        reading = read(rule, Period(start, add_months(start, 1)), today)
        rows.append((start, reading.value, holds(reading.value, rule.operator, rule.threshold)))
    return Preview(sum(1 for r in rows if r[2]), PREVIEW_MONTHS, tuple(rows))


def firing_for(user) -> list[BeaconRule]:
    """The firing rules ``user`` may see (the dashboard's block)."""
    return list(
        visible_rules(user).filter(active=True, state__state=State.FIRING).select_related("state")
    )


def visible_rules(user):
    """Managers: every rule; an account manager: the rules of their own scope."""
    qs = BeaconRule.objects.all()
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return qs.none()
    if user.sees_everything:
        return qs
    return qs.filter(scope=BeaconRule.Scope.ACCOUNT_MANAGER, scope_account_manager=user)
