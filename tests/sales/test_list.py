"""The deal list (/sales/): filters, totals, scope, bounded queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from sales import services
from sales.models import Deal, StageKind
from tests.conftest import client_for
from tests.factories import ClientFactory, ProductFactory, ProductLineFactory, SettlementFactory
from tests.sales.conftest import msk, stage

pytestmark = pytest.mark.django_db


def ids(response) -> set[int]:
    return {d.pk for d in response.context["page"]}


def test_list_shows_own_deals_with_totals(owner, outsider, deal, make_deal):
    other = make_deal(ClientFactory(account_manager=outsider), actor=outsider, quantity="1")
    response = client_for(owner).get("/sales/")
    assert response.status_code == 200
    assert ids(response) == {deal.pk}
    totals = response.context["totals"]
    # 2 × 1000 at the first stage's default 10 %
    assert (totals.count, totals.amount, totals.weighted) == (
        1,
        Decimal("2000.00"),
        Decimal("200.00"),
    )
    html = response.content.decode()
    assert "Acme" in html and f'data-deal="{deal.pk}"' in html
    assert ids(client_for(outsider).get("/sales/")) == {other.pk}


def test_every_filter_parameter(manager, owner, pipeline, own_client, deal, make_deal, refusal):
    assert Deal.objects.count() == 1
    line2 = ProductLineFactory(name="Chairs")
    chair = ProductFactory(line=line2, name="Chair", price=Decimal("10"))
    b_client = ClientFactory(account_manager=owner, abc_class="B")
    with time_machine.travel(msk(2026, 3, 2, 12), tick=False):
        lost = services.deal_create(
            actor=owner,
            client=b_client,
            pipeline=pipeline,
            lines=[services.LineInput(chair, Decimal("3"))],
            data={"expected_close": msk(2026, 4, 10).date()},
        )
        services.deal_move(actor=owner, deal=lost, stage=stage(pipeline, 20))
        lost = services.deal_lose(actor=owner, deal=lost, refusal=refusal, note="too dear")
    http = client_for(manager)

    def get(query):
        response = http.get("/sales/?" + query)
        assert response.status_code == 200
        assert not response.context["filter_errors"], response.context["filter_errors"]
        return ids(response)

    assert get(f"owner={owner.pk}") == {deal.pk, lost.pk}
    assert get(f"pipeline={pipeline.pk}") == {deal.pk, lost.pk}
    assert get(f"stage={stage(pipeline, 10).pk}") == {deal.pk}
    assert get("state=lost") == {lost.pk}
    assert get("state=open") == {deal.pk}
    assert get("sale_type=first") == {deal.pk, lost.pk}
    assert get(f"product_line={line2.pk}") == {lost.pk}
    assert get("abc=A") == {deal.pk}
    assert get("abc=B") == {lost.pk}
    assert get(f"refusal={refusal.pk}") == {lost.pk}
    assert get(f"lost_at_stage={stage(pipeline, 20).pk}") == {lost.pk}
    assert get("created_from=2026-03-02&created_to=2026-03-02") == {lost.pk}
    assert get("created_to=2026-03-01") == set()
    assert get("closed_from=2026-03-02&closed_to=2026-03-02") == {lost.pk}
    assert get("close_month=2026-04") == {lost.pk}
    assert get("close_month=2026-05") == set()
    assert get(f"reached_stage={stage(pipeline, 20).pk}") == {lost.pk}
    assert get(f"reached_stage={stage(pipeline, 10).pk}") == {deal.pk, lost.pk}
    assert get(f"client={own_client.pk}") == {deal.pk}
    assert get("next_step=none") == {deal.pk, lost.pk}


def test_ageing_filter_with_pause_and_class_a(manager, owner, pipeline, make_deal):
    # "Needs" expects 14 days; class A ages at 70 % (9.8 days), red at 150 %
    a_client = ClientFactory(account_manager=owner, abc_class="A")
    c_client = ClientFactory(account_manager=owner, abc_class="C")
    start = msk(2026, 3, 1, 9)
    a_deal = make_deal(a_client, now=start)
    c_deal = make_deal(c_client, now=start)
    paused = make_deal(c_client, now=start, next_step_date=msk(2026, 3, 20).date())
    http = client_for(manager)
    with time_machine.travel(start + timedelta(days=10), tick=False):
        assert ids(http.get("/sales/?ageing=yellow")) == {a_deal.pk}
        assert ids(http.get("/sales/?ageing=red")) == set()
    with time_machine.travel(start + timedelta(days=15), tick=False):
        # the class-A deal is red past 14.7 days, the other yellow; the paused one neither
        assert ids(http.get("/sales/?ageing=yellow")) == {c_deal.pk}
        assert ids(http.get("/sales/?ageing=red")) == {a_deal.pk}
    with time_machine.travel(start + timedelta(days=21, hours=1), tick=False):
        # paused deal's next step (20 March) is past: it ages again
        assert ids(http.get("/sales/?ageing=red")) == {a_deal.pk, c_deal.pk, paused.pk}
        assert ids(http.get("/sales/?ageing=yellow")) == set()


def test_bad_filter_shows_message_and_unfiltered_list(owner, deal):
    response = client_for(owner).get("/sales/?close_month=2026-13&state=open")
    assert response.status_code == 200
    assert response.context["filter_errors"]
    assert ids(response) == {deal.pk}  # never a half-applied filter set


def test_outsiders_client_filter_is_refused(outsider, own_client, deal):
    response = client_for(outsider).get(f"/sales/?client={own_client.pk}")
    assert response.context["filter_errors"]
    assert ids(response) == set()


def test_list_query_count_is_bounded(owner, make_deal, django_assert_max_num_queries):
    for n in range(30):
        client = ClientFactory(account_manager=owner, abc_class="ABC"[n % 3])
        SettlementFactory(client=client)
        make_deal(client)
    http = client_for(owner)
    http.get("/sales/")  # warm the session / content types
    # session, user, totals, the page, and the filter form's choice lists (constant)
    with django_assert_max_num_queries(12):
        response = http.get("/sales/?state=open")
    assert len(response.context["page"]) == 25


def test_list_renders_in_both_languages(owner, deal):
    for language, word in (("ru", "Сделки"), ("en", "Deals")):
        response = client_for(owner, language).get("/sales/")
        assert response.status_code == 200
        assert word in response.content.decode()
    assert StageKind.OPEN == "open"
