"""The role-scoping helper, seen from the outsider's side."""

import pytest
from django.http import Http404

from clients.models import Client, Settlement
from crm.access import get_for_user, scope_for_user
from tests.factories import ClientFactory, SettlementFactory


def test_scope_for_each_role(manager, owner, outsider):
    mine = ClientFactory(account_manager=owner)
    theirs = ClientFactory(account_manager=outsider)
    unassigned = ClientFactory(account_manager=None)
    assert set(scope_for_user(Client.objects.all(), manager)) == {mine, theirs, unassigned}
    assert list(scope_for_user(Client.objects.all(), owner)) == [mine]
    s = SettlementFactory(client=mine)
    SettlementFactory(client=theirs)
    assert list(scope_for_user(Settlement.objects.all(), owner)) == [s]


def test_outsider_gets_404(owner, outsider):
    mine = ClientFactory(account_manager=owner)
    assert get_for_user(Client.objects.all(), owner, pk=mine.pk) == mine
    with pytest.raises(Http404):
        get_for_user(Client.objects.all(), outsider, pk=mine.pk)
    with pytest.raises(Http404):
        get_for_user(Client.objects.all(), owner, pk="not-a-number")


def test_anonymous_sees_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    ClientFactory()
    assert not scope_for_user(Client.objects.all(), AnonymousUser()).exists()


def test_model_without_owner_cannot_be_scoped(owner):
    from clients.models import Tag

    with pytest.raises(TypeError):
        scope_for_user(Tag.objects.all(), owner)


def test_manager_required_gives_outsiders_404(rf, manager, owner):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from crm.access import manager_required

    view = manager_required(lambda request: HttpResponse("ok"))
    request = rf.get("/x")
    request.user = manager
    assert view(request).status_code == 200
    request.user = owner
    with pytest.raises(Http404):
        view(request)
    request.user = AnonymousUser()
    assert view(request).status_code == 302  # to the login page
