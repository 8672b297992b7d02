"""The client card's two quick actions through the pages: "Kept" on an open promise and "Done"
on the next step — what is saved, what the audit log records, where the user lands, what the
card shows afterwards."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from clients import services
from clients.models import Interaction
from crm.models import AuditEntry
from tests.conftest import client_for
from tests.factories import ProductFactory

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GOAL = "Call about the spring order"


@pytest.fixture
def logged(owner, own_client):
    """A contact with a promise and a next step, logged through the service an hour ago."""
    with time_machine.travel(datetime(2026, 3, 2, 8, 30, tzinfo=UTC), tick=False):
        return services.interaction_log(
            actor=owner,
            client=own_client,
            data={
                "summary": "Discussed the spring order",
                "promise": "Send the price list",
                "promise_due": date(2026, 3, 4),
                "next_step_date": date(2026, 3, 10),
                "next_step_goal": GOAL,
                "next_step_product": ProductFactory(name="Дрель"),
            },
        )


@pytest.fixture
def http(owner):
    return client_for(owner, "en")


def updates_of(instance) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_id=str(instance.pk), action="update").order_by("id")
    )


def kept_url(interaction: Interaction) -> str:
    return reverse("clients:promise_kept", args=[interaction.client_id, interaction.pk])


def test_promise_kept_from_the_card_with_htmx(http, owner, own_client, logged):
    card = reverse("clients:detail", args=[own_client.pk])
    page = http.get(card).content.decode()
    assert 'id="open-promises"' in page and kept_url(logged) in page
    with time_machine.travel(NOW, tick=False):
        response = http.post(kept_url(logged), HTTP_HX_REQUEST="true")
    assert (response.status_code, response.content.decode()) == (200, "Kept")
    logged.refresh_from_db()
    assert logged.promise_done_at == NOW
    [entry] = updates_of(logged)
    assert entry.actor == owner
    assert entry.changes == {"promise_done_at": [None, "2026-03-02T09:30:00+00:00"]}
    # the promise has left the card's open promises
    assert 'id="open-promises"' not in http.get(card).content.decode()
    # a second click (another tab) keeps the first time and writes nothing
    with time_machine.travel(NOW.replace(hour=11), tick=False):
        assert http.post(kept_url(logged), HTTP_HX_REQUEST="true").status_code == 200
    logged.refresh_from_db()
    assert logged.promise_done_at == NOW
    assert len(updates_of(logged)) == 1


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("", "card"),
        ("/clients/my-day/", "/clients/my-day/"),
        ("https://elsewhere.example/", "card"),  # not this site: back to the card
    ],
)
def test_promise_kept_without_javascript_redirects(http, own_client, logged, next_url, lands_on):
    response = http.post(kept_url(logged), {"next": next_url} if next_url else {})
    card = reverse("clients:detail", args=[own_client.pk])
    assert response.status_code == 302
    assert response.url == (card if lands_on == "card" else lands_on)
    logged.refresh_from_db()
    assert logged.promise_done_at is not None


def test_kept_on_a_contact_with_no_promise_says_so(http, owner, own_client):
    plain = services.interaction_log(actor=owner, client=own_client, data={"summary": "Hello"})
    response = http.post(kept_url(plain), follow=True)
    assert "This contact has no promise." in response.content.decode()
    plain.refresh_from_db()
    assert plain.promise_done_at is None
    assert updates_of(plain) == []


def test_next_step_done_from_the_card(http, owner, own_client, logged):
    card = reverse("clients:detail", args=[own_client.pk])
    assert GOAL in http.get(card).content.decode()
    response = http.post(reverse("clients:next_step_done", args=[own_client.pk]), follow=True)
    assert response.redirect_chain == [(card, 302)]
    page = response.content.decode()
    assert "Next step marked as done. Plan the next one when you log the contact." in page
    assert "No next step planned." in page and GOAL not in page
    own_client.refresh_from_db()
    assert (own_client.next_step_date, own_client.next_step_goal) == (None, "")
    assert own_client.next_step_product is None
    [entry] = updates_of(own_client)
    assert entry.actor == owner
    assert entry.changes == {"next_step": [f"2026-03-10 {GOAL}", None]}
    assert entry.note == "next step done"
    # the logged contact keeps the step it planned (the history), only the card's is done
    logged.refresh_from_db()
    assert (logged.next_step_date, logged.next_step_goal) == (date(2026, 3, 10), GOAL)
    # done again with nothing planned: nothing to record
    http.post(reverse("clients:next_step_done", args=[own_client.pk]))
    assert len(updates_of(own_client)) == 1
