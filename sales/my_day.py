"""The pipeline's block of My day (clients.extensions.register_my_day_section): the same items
as the daily digest (sales.digest)."""

from django.utils.translation import gettext as _

from clients.extensions import MyDaySection
from sales.digest import digest_items
from sales.models import Deal, StageKind

ROWS = 20  # of each list on the My day page; fewer on the account manager's home


def deals_section(user, today, limit: int) -> MyDaySection | None:
    if not Deal.objects.filter(owner=user, state=StageKind.OPEN).exists():
        return None
    items = digest_items(user, today=today, limit=min(limit, ROWS))
    return MyDaySection(
        key="deals-attention",
        title=_("Deals that need attention"),
        template="sales/_my_day.html",
        context={"items": items},
        count=items.total,
        order=50,
    )
