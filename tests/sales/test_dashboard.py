"""The pipeline's dashboard figures (sales/dashboard.py) worked by hand, time frozen on 5 Dec
2026, period November 2026: owner's deal of 1 000 won on 10 Nov and outsider's of 2 500 won on
20 Nov (in the period), owner's deal of 700 won on 20 Oct (previous period only), one open deal
→ won 3 500 (2 deals), previous 700, change +400 %; columns owner 1 / 1 000, outsider
1 / 2 500; each figure's list holds the same deals."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from crm import dashboard as kpi
from sales.models import Deal, StageKind
from tests.conftest import client_for
from tests.sales.kanban_helpers import make_deal

MSK = ZoneInfo("Europe/Moscow")
NOV = kpi.Period(date(2026, 11, 1), date(2026, 12, 1))


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(datetime(2026, 12, 5, 12, tzinfo=MSK), tick=False)
    cache.clear()


def won(user, amount, closed):
    deal = make_deal(user, amount=amount, entered="2026-09-01 10:00")
    Deal.objects.filter(pk=deal.pk).update(state=StageKind.WON, closed_at=closed)
    return deal


def test_deals_won_card_and_columns(manager, owner, outsider):
    won(owner, "1000", datetime(2026, 11, 10, 12, tzinfo=MSK))
    won(outsider, "2500", datetime(2026, 11, 20, 12, tzinfo=MSK))
    won(owner, "700", datetime(2026, 10, 20, 12, tzinfo=MSK))
    make_deal(owner, amount="50")
    ctx = kpi.KpiContext(period=NOV, user=manager, today=date(2026, 12, 5))
    board = kpi.compute(ctx)
    result = board.results["won_deals"]
    assert (result.figure.value, result.figure.count) == (Decimal("3500"), 2)
    assert result.previous.value == Decimal("700") and result.change == Decimal("400.0")
    assert board.results["open_deals"].figure.value == 1
    counts, sums = board.table["deals_won"], board.table["deals_won_sum"]
    assert (counts[owner.pk].value, counts[outsider.pk].value, counts[None].value) == (1, 1, 2)
    assert sums[owner.pk].value == Decimal("1000") and sums[None].value == Decimal("3500")
    http = client_for(manager)
    for figure in (result.figure, counts[owner.pk], sums[None], board.results["open_deals"].figure):
        listed = http.get(figure.url).context["page"].paginator.count
        assert listed == (figure.count if figure.count is not None else figure.value)
    # an account manager's card counts their own deals only
    own = kpi.compute(kpi.KpiContext(period=NOV, user=owner, today=date(2026, 12, 5)), table=False)
    assert own.results["won_deals"].figure.value == Decimal("1000")
