"""What surveys add to the client card (clients.extensions): a panel with the survey history of
the client's contacts and the last NPS of each, and timeline items (invitation sent, answer
received). An anonymous campaign's invitation shows only that it was sent: never whether or
when it was opened or answered, nor the score or comment (docs/decisions/surveys.md,
"Anonymity"). Two queries for the panel, one for the timeline."""

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from clients.extensions import CardPanel, TimelineItem
from clients.models import ContactPerson
from surveys.models import Answer, Invitation

HISTORY_LIMIT = 10


def _shown_status(invitation: Invitation) -> str:
    """The status a person may see: an anonymous campaign's stops at "sent"."""
    if invitation.campaign.anonymous and invitation.status in (
        Invitation.Status.OPENED,
        Invitation.Status.ANSWERED,
        Invitation.Status.EXPIRED,
    ):
        return str(Invitation.Status.SENT.label)
    return invitation.get_status_display()


def _history(client, limit: int):
    return list(
        Invitation.objects.filter(client=client)
        .select_related("campaign", "contact", "answer")
        .order_by("-created_at", "-id")[:limit]
    )


def survey_card_panel(client, user) -> CardPanel | None:
    rows = _history(client, HISTORY_LIMIT)
    if not rows:
        return None
    last_nps = Subquery(
        Answer.objects.filter(
            invitation__contact=OuterRef("pk"),
            invitation__campaign__anonymous=False,
            nps__isnull=False,
        )
        .order_by("-submitted_at", "-id")
        .values("nps")[:1]
    )
    contacts = [
        c
        for c in ContactPerson.objects.filter(client=client)
        .annotate(last_nps=last_nps)
        .order_by("-is_primary", "full_name", "id")
        if c.last_nps is not None
    ]
    history = []
    for inv in rows:
        anonymous = inv.campaign.anonymous
        answer = None if anonymous else getattr(inv, "answer", None)
        history.append(
            {
                "invitation": inv,
                "status": _shown_status(inv),
                "anonymous": anonymous,
                "answered_at": None if anonymous else inv.answered_at,
                "nps": answer.nps if answer else None,
                "complaint_id": answer.complaint_id if answer else None,
            }
        )
    return CardPanel(
        title=_("Surveys"),
        template="surveys/_client_panel.html",
        context={"history": history, "contacts": contacts},
        order=60,
    )


def survey_timeline_items(client, user, limit: int) -> list[TimelineItem]:
    rows = (
        Invitation.objects.filter(client=client, sent_at__isnull=False)
        .select_related("campaign", "contact", "answer")
        .order_by("-sent_at", "-id")[:limit]
    )
    items = []
    for inv in rows:
        items.append(
            TimelineItem(
                at=inv.sent_at,
                kind="survey",
                title=_("Survey sent to %(contact)s: %(campaign)s")
                % {"contact": inv.contact.full_name, "campaign": inv.campaign.name},
                icon="envelope-paper",
                badge=_("anonymous") if inv.campaign.anonymous else "",
            )
        )
        if inv.campaign.anonymous or inv.answered_at is None:
            continue
        answer = getattr(inv, "answer", None)
        if answer is None:
            continue
        text = answer.comment[:200]
        url = ""
        if answer.complaint_id:
            url = reverse("feedback:detail", kwargs={"pk": answer.complaint_id})
        items.append(
            TimelineItem(
                at=inv.answered_at,
                kind="survey",
                title=_("Survey answered by %(contact)s: %(campaign)s")
                % {"contact": inv.contact.full_name, "campaign": inv.campaign.name},
                text=text,
                url=url,
                icon="chat-square-heart",
                badge=(_("NPS %(n)s") % {"n": answer.nps}) if answer.nps is not None else "",
            )
        )
    return items
