"""Sending the invitations and reminders, and the expiry sweep.

At most once per email: a sender first **claims** its rows — under a row lock
(``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time) it stamps
``in_flight_since`` and commits — and only then talks to the SMTP server, over one connection
for the whole batch. A row is marked sent (or reminded) once the server accepted its message
(in groups of ``MARK_EVERY``);
a server that refuses the recipient marks it bounced and the address refused. Any other SMTP or
network error releases the rows not yet accepted and re-raises, so the task retries with
backoff and sends only those. A redelivered or retried task finds the accepted rows sent and
the claimed ones in flight, and sends neither again. A worker killed between a claim and the
server's answer leaves its rows in flight (never sent twice); the expiry sweep ends them.
"""

import secrets
import smtplib
import time
from datetime import datetime, timedelta

from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.queue import enqueue_chunks
from surveys import emails, selectors
from surveys.models import EmailBounce, Invitation, InvitationToken, token_hash
from surveys.selectors import survey_settings

S = Invitation.Status
IN_FLIGHT_LEASE = timedelta(hours=1)
# Accepted emails are marked sent in groups: a statement and a commit per email cost more than
# the email itself. Rows accepted but not yet marked stay in flight, which is never re-sent,
# so a worker dying meanwhile loses no safety (at most once, as before), only the "sent" stamp.
MARK_EVERY = 50


def _claim(ids: list[int], *, reminder: bool, now: datetime) -> list[tuple[Invitation, str]]:
    """Take the rows of ``ids`` still to send, stamp them in flight, give each a new link
    token (only its hash stored). Returns (invitation, token) pairs; commits before sending."""
    with transaction.atomic():
        rows = Invitation.objects.select_for_update(of=("self",), skip_locked=True).filter(
            pk__in=ids, in_flight_since__isnull=True
        )
        if reminder:
            rows = rows.filter(
                status__in=Invitation.WAITING,
                expires_at__gt=now,
                reminders_sent__lt=F("campaign__reminders_max"),
            )
        else:
            rows = rows.filter(status=S.QUEUED)
        rows = list(rows.select_related("campaign__questionnaire", "contact", "client"))
        taken, closed = [], []
        for inv in rows:
            if inv.contact.survey_opt_out:
                closed.append(inv.pk)
            elif reminder and now - (inv.last_reminder_at or inv.sent_at or now) < timedelta(
                days=inv.campaign.reminder_gap_days
            ):
                continue  # reminded meanwhile (a second beat run): not due any more
            else:
                taken.append(inv)
        if closed:
            Invitation.objects.filter(pk__in=closed).update(status=S.OPTED_OUT, closed_at=now)
        pairs = [(inv, secrets.token_urlsafe(32)) for inv in taken]
        InvitationToken.objects.bulk_create(
            [
                InvitationToken(invitation=inv, token_hash=token_hash(t), created_at=now)
                for inv, t in pairs
            ]
        )
        Invitation.objects.filter(pk__in=[inv.pk for inv in taken]).update(in_flight_since=now)
    return pairs


def _accepted(invitations: list[Invitation], *, reminder: bool) -> None:
    """Mark the rows whose messages the server accepted: one UPDATE per campaign expiry (a
    batch is one campaign's, reminders may mix), not one statement and commit per email."""
    if not invitations:
        return
    now = timezone.now()
    ids = [inv.pk for inv in invitations]
    if reminder:
        Invitation.objects.filter(pk__in=ids).update(
            in_flight_since=None, reminders_sent=F("reminders_sent") + 1, last_reminder_at=now
        )
        return
    by_expiry: dict[int, list[int]] = {}
    for inv in invitations:
        by_expiry.setdefault(inv.campaign.expiry_days, []).append(inv.pk)
    for days, rows in by_expiry.items():
        Invitation.objects.filter(pk__in=rows).update(
            in_flight_since=None,
            status=S.SENT,
            sent_at=now,
            expires_at=now + timedelta(days=days),
            error="",
        )


def _bounced(inv: Invitation, error: Exception) -> None:
    now = timezone.now()
    reason = f"{type(error).__name__}: {error}"[:255]
    with transaction.atomic():
        Invitation.objects.filter(pk=inv.pk).update(
            in_flight_since=None, status=S.BOUNCED, closed_at=now, error=reason
        )
        EmailBounce.objects.get_or_create(
            email=inv.email.lower(), defaults={"bounced_at": now, "reason": reason}
        )


def _release(invitations: list[Invitation]) -> None:
    Invitation.objects.filter(pk__in=[inv.pk for inv in invitations]).update(in_flight_since=None)


def send_batch(
    ids: list[int], *, reminder: bool = False, now: datetime | None = None, sleep=time.sleep
) -> int:
    """Send the invitations (or reminders) of ``ids`` still due, over one SMTP connection,
    at most ``send_rate_per_minute`` a minute. Returns the emails the server accepted."""
    pairs = _claim(ids, reminder=reminder, now=now or timezone.now())
    if not pairs:
        return 0
    prefs = survey_settings()
    gap = 60.0 / prefs.send_rate_per_minute if prefs.send_rate_per_minute else 0.0
    done: set[int] = set()
    accepted: list[Invitation] = []  # accepted by the server, marked every MARK_EVERY emails
    sent = 0
    connection = get_connection(fail_silently=False)
    builder = emails.MessageBuilder(reminder=reminder, prefs=prefs, connection=connection)
    try:
        connection.open()
        # over SMTP the message goes as bytes filled in from one built per kind of email
        smtp = connection.connection if isinstance(connection, SmtpBackend) else None
        started = time.monotonic()
        for index, (inv, token) in enumerate(pairs):
            if gap:
                sleep(max(0.0, started + index * gap - time.monotonic()))
            wire = builder.wire(inv, token) if smtp is not None else None
            try:
                if wire is not None:
                    sender, recipient, data = wire
                    smtp.sendmail(sender, [recipient], data)
                else:
                    connection.send_messages([builder.build(inv, token)])
            except smtplib.SMTPRecipientsRefused as exc:
                _bounced(inv, exc)
                done.add(inv.pk)
                continue
            accepted.append(inv)
            done.add(inv.pk)
            sent += 1
            if len(accepted) >= MARK_EVERY:
                _accepted(accepted, reminder=reminder)
                accepted = []
    except BaseException:
        # what the server accepted is marked; the rest (a refused connection, a dropped one,
        # a timeout) is freed for the retry
        _accepted(accepted, reminder=reminder)
        accepted = []
        _release([inv for inv, _token in pairs if inv.pk not in done])
        raise
    finally:
        _accepted(accepted, reminder=reminder)
        connection.close()
    return sent


REMINDER_CHUNK = 200
REMINDER_TASK = "surveys.send_reminder_batch"


@transaction.atomic
def reminders_queue(*, now: datetime | None = None) -> int:
    """Queue the reminders due now in batches (each batch re-checks, under its row locks, that
    its rows are still due: two runs never remind twice). Returns how many were due."""
    ids = selectors.reminders_due(now=now)
    enqueue_chunks(REMINDER_TASK, ids, REMINDER_CHUNK)
    return len(ids)


def expire_invitations(*, now: datetime | None = None) -> int:
    """The sweep: invitations past their expiry and not answered become expired (no reminder,
    the link shows "expired"); rows left in flight by a dead worker end here too."""
    now = now or timezone.now()
    rows = Invitation.objects.filter(status__in=Invitation.OPEN, expires_at__lte=now)
    # a row a live sender holds is left to it (its lease: an hour); older holds are dead ones
    rows = rows.exclude(in_flight_since__gt=now - IN_FLIGHT_LEASE)
    return rows.update(status=S.EXPIRED, closed_at=now, in_flight_since=None)
