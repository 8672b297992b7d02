"""What the complaints add to the client card (clients.extensions): timeline items, the
"Register a complaint" button and a panel of open complaints. One query per provider."""

from django.urls import reverse
from django.utils.translation import gettext as _

from clients.extensions import CardAction, CardPanel, TimelineItem
from feedback.models import Complaint


def complaint_timeline_items(client, user, limit: int) -> list[TimelineItem]:
    complaints = (
        Complaint.objects.filter(client=client)
        .select_related("theme")
        .order_by("-registered_at", "-id")[:limit]
    )
    return [
        TimelineItem(
            at=c.registered_at,
            kind="complaint",
            title=_("Complaint #%(n)s: %(theme)s") % {"n": c.pk, "theme": c.theme.name},
            text=c.description[:200],
            url=reverse("feedback:detail", kwargs={"pk": c.pk}),
            icon="exclamation-octagon",
            badge=c.get_status_display(),
        )
        for c in complaints
    ]


def complaint_card_actions(client, user) -> list[CardAction]:
    return [
        CardAction(
            label=_("Register a complaint"),
            url=reverse("feedback:create") + f"?client={client.pk}",
            icon="exclamation-octagon",
            style="outline-danger",
        )
    ]


def complaint_card_panel(client, user) -> CardPanel | None:
    open_complaints = list(
        Complaint.objects.filter(client=client, status__in=Complaint.OPEN_STATUSES)
        .select_related("theme", "responsible")
        .order_by("-registered_at")[:10]
    )
    if not open_complaints:
        return None
    return CardPanel(
        title=_("Open complaints"),
        template="feedback/_client_panel.html",
        context={"open_complaints": open_complaints},
        order=50,
    )
