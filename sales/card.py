"""What the pipeline adds to the client card (clients.extensions): the "New deal" button, a
panel of the client's open deals and lost deals with their reasons, and timeline items (deal
opened, won, lost — from the stage log). One query for the panel, one for the timeline."""

from django.urls import reverse
from django.utils.translation import gettext as _

from clients.extensions import CardAction, CardPanel, TimelineItem
from sales.models import StageLog
from sales.selectors import client_deals

EVENTS = {
    StageLog.Event.CREATED: ("briefcase", lambda: _("Deal opened: %(deal)s")),
    StageLog.Event.WON: ("trophy", lambda: _("Deal won: %(deal)s")),
    StageLog.Event.LOST: ("x-octagon", lambda: _("Deal lost: %(deal)s")),
}


def deal_card_actions(client, user) -> list[CardAction]:
    return [
        CardAction(
            label=_("New deal"),
            url=reverse("sales:create") + f"?client={client.pk}",
            icon="briefcase",
            style="outline-primary",
        )
    ]


def deal_card_panel(client, user) -> CardPanel | None:
    open_deals, lost = client_deals(client)
    if not open_deals and not lost:
        return None
    return CardPanel(
        title=_("Deals"),
        template="sales/_client_panel.html",
        context={"open_deals": open_deals, "lost_deals": lost},
        order=40,
    )


def deal_timeline_items(client, user, limit: int) -> list[TimelineItem]:
    rows = (
        StageLog.objects.filter(deal__client=client, event__in=list(EVENTS))
        .select_related("deal", "refusal", "to_stage")
        .order_by("-at", "-id")[:limit]
    )
    items = []
    for entry in rows:
        icon, title = EVENTS[entry.event]
        items.append(
            TimelineItem(
                at=entry.at,
                kind="deal",
                title=title() % {"deal": entry.deal},
                text=entry.note[:200],
                url=reverse("sales:detail", kwargs={"pk": entry.deal_id}),
                icon=icon,
                badge=entry.refusal.name if entry.refusal else entry.to_stage.name,
                amount=entry.deal.amount if entry.event != StageLog.Event.LOST else None,
            )
        )
    return items
