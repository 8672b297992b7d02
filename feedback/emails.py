"""Complaint emails as Celery tasks: take ids, load, render in the recipient's language, send.

Templates: ``templates/feedback/email/<name>_<lang>.txt`` (ru and en); the first line is the
subject. Services enqueue these through ``crm.queue.enqueue`` (the outbox, published after
commit). Every task retries SMTP and network errors with backoff (``EMAIL_RETRY``).
"""

from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import Complaint, Notice, SlaBreach

LANGS = {code for code, _name in settings.LANGUAGES}
# Every task that talks to the SMTP server: a refused or dropped connection is retried with
# exponential backoff (about 1 s, 2 s, 4 s … capped at 10 minutes, 8 times), then the task
# fails loudly in the worker log. SMTPException and socket errors are both OSErrors.
EMAIL_RETRY = {
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def language_of(user) -> str:
    lang = (getattr(user, "language", "") or settings.LANGUAGE_CODE)[:2]
    return lang if lang in LANGS else "en"


def complaint_url(complaint: Complaint) -> str:
    return settings.SITE_URL + reverse("feedback:detail", kwargs={"pk": complaint.pk})


def render_email(name: str, language: str, context: dict) -> tuple[str, str]:
    """(subject, body) of ``feedback/email/<name>_<language>.txt``."""
    language = language if language in LANGS else "en"
    with translation.override(language):
        text = render_to_string(f"feedback/email/{name}_{language}.txt", context)
    subject, _sep, body = text.lstrip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def _send(name: str, language: str, context: dict, to: str) -> None:
    subject, body = render_email(name, language, context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


@shared_task(name="feedback.send_assignment_email", **EMAIL_RETRY)
def send_assignment_email(notice_id: int) -> bool:
    """The "assigned to you" email of one notice. The notice is marked e-mailed only after the
    SMTP server accepted the message (in the same transaction, the row locked), so a failed
    send is retried and a redelivered message sends nothing twice."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update(of=("self",))
            .select_related("recipient", "complaint__client", "complaint__theme")
            .filter(pk=notice_id, kind=Notice.Kind.ASSIGNED, emailed_at__isnull=True)
            .first()
        )
        if notice is None or not notice.recipient.email:
            return False
        user, complaint = notice.recipient, notice.complaint
        _send(
            "assigned",
            language_of(user),
            {"complaint": complaint, "user": user, "url": complaint_url(complaint)},
            user.email,
        )
        Notice.objects.filter(pk=notice.pk).update(emailed_at=timezone.now())
    return True


@shared_task(name="feedback.send_escalation_emails", **EMAIL_RETRY)
def send_escalation_emails(breach_ids: list[int]) -> int:
    """One email per breach to the responsible's head. A breach is marked e-mailed only after
    its email went (row locked meanwhile): an SMTP failure retries the task, which skips the
    breaches already e-mailed, and a redelivered message sends nothing twice."""
    sent = 0
    for breach_id in breach_ids:
        with transaction.atomic():
            breach = (
                SlaBreach.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related(
                    "complaint__client", "complaint__theme", "responsible", "escalated_to"
                )
                .filter(pk=breach_id, emailed_at__isnull=True, escalated_to__isnull=False)
                .first()
            )
            if breach is None or not breach.escalated_to.email:
                continue
            head = breach.escalated_to
            _send(
                "escalation",
                language_of(head),
                {
                    "breach": breach,
                    "complaint": breach.complaint,
                    "user": head,
                    "url": complaint_url(breach.complaint),
                },
                head.email,
            )
            SlaBreach.objects.filter(pk=breach.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


@shared_task(name="feedback.send_client_resolution_email", **EMAIL_RETRY)
def send_client_resolution_email(complaint_id: int, language: str, to: str) -> bool:
    complaint = (
        Complaint.objects.select_related("client", "contact", "responsible")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None or not to:
        return False
    _send("client_resolved", language, {"complaint": complaint, "contact": complaint.contact}, to)
    return True
