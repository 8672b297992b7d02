"""Complaint emails as Celery tasks: take ids, load, render in the recipient's language, send.

Templates: ``templates/feedback/email/<name>_<lang>.txt`` (ru and en); the first line is the
subject. Services enqueue these through ``crm.queue.enqueue`` (after commit).
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback.models import Complaint, SlaBreach

LANGS = {code for code, _name in settings.LANGUAGES}


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


@shared_task(name="feedback.send_assignment_email")
def send_assignment_email(complaint_id: int) -> bool:
    complaint = (
        Complaint.objects.select_related("client", "theme", "responsible")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None or complaint.responsible is None or not complaint.responsible.email:
        return False
    user = complaint.responsible
    _send(
        "assigned",
        language_of(user),
        {"complaint": complaint, "user": user, "url": complaint_url(complaint)},
        user.email,
    )
    return True


@shared_task(name="feedback.send_escalation_emails")
def send_escalation_emails(breach_ids: list[int]) -> int:
    """One email per breach to the responsible's head. A breach is emailed at most once, even
    if this task is delivered twice: the row is claimed with a conditional UPDATE first."""
    sent = 0
    breaches = SlaBreach.objects.filter(
        pk__in=breach_ids, emailed_at__isnull=True, escalated_to__isnull=False
    ).select_related("complaint__client", "complaint__theme", "responsible", "escalated_to")
    for breach in breaches:
        head = breach.escalated_to
        if not head.email:
            continue
        claimed = SlaBreach.objects.filter(pk=breach.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue
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
        sent += 1
    return sent


@shared_task(name="feedback.send_client_resolution_email")
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
