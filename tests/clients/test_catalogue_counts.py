"""The catalogue's client count per target segment counts the clients the viewer may see."""

from django.urls import reverse

from clients.models import TargetSegment
from tests.conftest import client_for
from tests.factories import ClientFactory


def test_catalogue_counts_only_the_clients_the_user_may_see(owner, outsider, manager):
    segment = TargetSegment.objects.create(name="Retail chains")
    for _ in range(2):
        ClientFactory(account_manager=owner, target_segment=segment)
    for _ in range(3):
        ClientFactory(account_manager=outsider, target_segment=segment)
    TargetSegment.objects.create(name="Empty")

    def counts(user):
        page = client_for(user, "en").get(reverse("clients:catalogue"))
        assert page.status_code == 200
        return {s.name: s.n_clients for s in page.context["segments"]}, page.content.decode()

    (owner_counts, html) = counts(owner)
    assert owner_counts == {"Retail chains": 2, "Empty": 0}
    assert "2 clients" in html and "5 clients" not in html
    assert counts(outsider)[0] == {"Retail chains": 3, "Empty": 0}
    assert counts(manager)[0] == {"Retail chains": 5, "Empty": 0}
