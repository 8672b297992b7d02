"""The record picker's endpoints (clients/pickers.py): scoped like the pages, paged, searched,
bounded in queries, and never a 500 on bad input."""

import pytest

from crm.models import User
from crm.pickers import MAX_PAGE, PAGE_SIZE
from tests.conftest import client_for
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ManagerFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def get(http, url, **params):
    response = http.get(url, params)
    return response.status_code, response.json()


def texts(body) -> list[str]:
    return [row["text"] for row in body["results"]]


@pytest.fixture
def books(owner, outsider):
    """Owner's two clients and outsider's one, each with contacts."""
    acme = ClientFactory(name="Acme Ltd", inn="7701000001", account_manager=owner)
    beta = ClientFactory(name="Beta Acme", inn="7701000002", account_manager=owner)
    theirs = ClientFactory(name="Acme Rival", inn="7801000003", account_manager=outsider)
    ContactFactory(client=acme, full_name="Ivan Petrov", position="buyer", is_primary=True)
    ContactFactory(client=acme, full_name="Anna Smirnova", email="anna@acme.example")
    ContactFactory(client=beta, full_name="Boris Beta")
    ContactFactory(client=theirs, full_name="Olga Rival")
    return acme, beta, theirs


def test_clients_are_scoped_to_the_account_manager(books, owner, outsider, manager):
    acme, beta, theirs = books
    status, body = get(client_for(owner), "/lookup/clients/", q="acme")
    assert status == 200
    assert body == {
        "results": [
            {"id": acme.pk, "text": "Acme Ltd · 7701000001"},
            {"id": beta.pk, "text": "Beta Acme · 7701000002"},
        ],
        "more": False,
    }
    # the outsider sees only their own client, whatever they search
    assert texts(get(client_for(outsider), "/lookup/clients/")[1]) == ["Acme Rival · 7801000003"]
    assert get(client_for(outsider), "/lookup/clients/", q="7701")[1]["results"] == []
    # a manager sees every client, in name order
    assert texts(get(client_for(manager), "/lookup/clients/", q="acme")[1]) == [
        "Acme Ltd · 7701000001",
        "Acme Rival · 7801000003",
        "Beta Acme · 7701000002",
    ]


def test_clients_but_one(books, owner):
    acme, beta, _theirs = books
    status, body = get(client_for(owner), "/lookup/clients/", exclude=acme.pk)
    assert (status, [r["id"] for r in body["results"]]) == (200, [beta.pk])
    assert get(client_for(owner), "/lookup/clients/", exclude="x")[0] == 400


def test_clients_are_searched_like_the_client_list(books, owner):
    acme, beta, _theirs = books
    http = client_for(owner)
    assert [r["id"] for r in get(http, "/lookup/clients/", q="7701000002")[1]["results"]] == [
        beta.pk
    ]
    # a contact's email finds its client
    assert [
        r["id"] for r in get(http, "/lookup/clients/", q="anna@acme.example")[1]["results"]
    ] == [acme.pk]
    assert get(http, "/lookup/clients/", q="nothing like it")[1] == {"results": [], "more": False}


def test_clients_are_paged(owner):
    ClientFactory.create_batch(PAGE_SIZE + 5, account_manager=owner)
    http = client_for(owner)
    status, first = get(http, "/lookup/clients/", page=1)
    assert status == 200 and len(first["results"]) == PAGE_SIZE and first["more"] is True
    status, second = get(http, "/lookup/clients/", page="2")
    assert len(second["results"]) == 5 and second["more"] is False
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == PAGE_SIZE + 5  # no row twice, none lost
    # past the last page: empty; past the deepest page served: empty as well
    assert get(http, "/lookup/clients/", page=3)[1] == {"results": [], "more": False}
    assert get(http, "/lookup/clients/", page=MAX_PAGE + 1)[1] == {"results": [], "more": False}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"page": "abc"}, 400),
        ({"page": "0"}, 400),
        ({"page": "-1"}, 400),
        ({"page": "9" * 40}, 400),
        ({"q": "x" * 5000}, 200),
        ({"q": "%_\\'\""}, 200),
    ],
)
def test_bad_input_is_a_400_or_an_empty_page_never_a_500(owner, params, status):
    code, body = get(client_for(owner), "/lookup/clients/", **params)
    assert code == status
    assert body["results"] == [] and body["more"] is False


def test_contacts_only_of_the_given_client(books, owner):
    acme, beta, _theirs = books
    http = client_for(owner)
    status, body = get(http, "/lookup/contacts/", client=acme.pk)
    assert status == 200
    assert texts(body) == ["Ivan Petrov · buyer", "Anna Smirnova"]  # the primary one first
    assert texts(get(http, "/lookup/contacts/", client=beta.pk, q="bor")[1]) == ["Boris Beta"]
    assert texts(get(http, "/lookup/contacts/", client=acme.pk, q="anna@")[1]) == ["Anna Smirnova"]


def test_contacts_of_another_managers_client_are_a_404_like_a_missing_client(
    books, owner, outsider
):
    acme, _beta, theirs = books
    http = client_for(outsider, "en")
    # from the outsider's side: owner's client does not exist for them
    assert get(http, "/lookup/contacts/", client=acme.pk) == (
        404,
        {"error": "Not found.", "results": [], "more": False},
    )
    assert get(http, "/lookup/contacts/", client=999_999_999)[0] == 404
    assert texts(get(http, "/lookup/contacts/", client=theirs.pk)[1]) == ["Olga Rival"]
    # nothing of owner's through the search either
    assert get(http, "/lookup/contacts/", client=theirs.pk, q="Ivan")[1]["results"] == []


@pytest.mark.parametrize("client", ["", "abc", "1.5", "-3", "9" * 30])
def test_contacts_need_a_valid_client(owner, client):
    status, body = get(client_for(owner, "en"), "/lookup/contacts/", client=client)
    assert status == 400
    assert "client" in body["error"]


def test_products_are_the_active_ones_by_name_or_code(owner):
    ProductFactory(name="Cement M500", code="CEM-500")
    ProductFactory(name="Sand", code="SND")
    ProductFactory(name="Cement old", code="CEM-OLD", is_active=False)
    http = client_for(owner)
    assert texts(get(http, "/lookup/products/", q="cement")[1]) == ["Cement M500 · CEM-500"]
    assert texts(get(http, "/lookup/products/", q="snd")[1]) == ["Sand · SND"]
    assert len(get(http, "/lookup/products/")[1]["results"]) == 2


@pytest.fixture
def staff(db, manager, owner, outsider):
    admin = UserFactory(username="root", first_name="Adam", last_name="Admin", role="admin")
    gone = UserFactory(username="gone", first_name="Gone", last_name="Away", is_active=False)
    return admin, gone


def ids(body) -> set[int]:
    return {row["id"] for row in body["results"]}


def test_users_by_role(books, staff, owner, outsider, manager):
    acme, _beta, _theirs = books
    admin, gone = staff
    http = client_for(owner, "en")
    everyone = {manager.pk, owner.pk, outsider.pk, admin.pk}
    assert ids(get(http, "/lookup/users/")[1]) == everyone
    assert ids(get(http, "/lookup/users/", role="any")[1]) == everyone
    # a filter's "everyone": inactive users too (their past records stay findable)
    assert ids(get(http, "/lookup/users/", role="everyone")[1]) == everyone | {gone.pk}
    # an account manager is an account manager or a manager; never an inactive user
    assert ids(get(http, "/lookup/users/", role="account_manager")[1]) == {
        manager.pk,
        owner.pk,
        outsider.pk,
    }
    # the responsible for a client's record: who may see the client
    assert ids(get(http, "/lookup/users/", role="responsible", client=acme.pk)[1]) == {
        manager.pk,
        owner.pk,
        admin.pk,
    }
    assert texts(get(http, "/lookup/users/", q="петрова")[1]) == ["Мария Петрова"]
    assert get(http, "/lookup/users/", role="boss")[0] == 400


def test_users_responsible_for_a_client_the_user_may_not_see_is_a_404(books, outsider):
    acme, _beta, _theirs = books
    status, _body = get(client_for(outsider), "/lookup/users/", role="responsible", client=acme.pk)
    assert status == 404


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/lookup/clients/", {"q": "client"}),
        ("/lookup/clients/", {}),
        ("/lookup/contacts/", {"client": "CLIENT"}),
        ("/lookup/products/", {"q": "product"}),
        ("/lookup/users/", {"role": "responsible", "client": "CLIENT"}),
    ],
)
def test_queries_are_bounded(django_assert_max_num_queries, owner, url, params):
    client = ClientFactory(account_manager=owner)
    ContactFactory.create_batch(30, client=client)
    ClientFactory.create_batch(30, account_manager=owner)
    ProductFactory.create_batch(30)
    ManagerFactory.create_batch(5)
    http = client_for(owner)
    params = {k: client.pk if v == "CLIENT" else v for k, v in params.items()}
    # session + user, then the client (where given) and one page
    with django_assert_max_num_queries(4):
        response = http.get(url, params)
    assert response.status_code == 200 and response.json()["results"]


def test_anonymous_is_sent_to_log_in(db):
    from django.test import Client

    response = Client().get("/lookup/clients/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_role_choices_match_the_model():
    assert {User.Role.ACCOUNT_MANAGER, User.Role.MANAGER} <= set(User.Role.values)


def test_a_filterset_picks_through_the_picker(owner, outsider, books):
    import django_filters

    from clients.models import Client
    from clients.pickers import CLIENTS, USERS
    from crm.filters import scope_filterset
    from crm.pickers import RecordFilter

    class Filter(django_filters.FilterSet):
        am = RecordFilter(lookup=USERS, field_name="account_manager", queryset=User.objects.all())
        parent = RecordFilter(lookup=CLIENTS, queryset=Client.objects.all())

        class Meta:
            model = Client
            fields: list[str] = []

    acme, _beta, theirs = books
    filterset = scope_filterset(
        Filter({"am": owner.pk, "parent": theirs.pk}, queryset=Client.objects.all()), owner
    )
    assert not filterset.is_valid()  # another account manager's client is no choice
    assert list(filterset.errors) == ["parent"]
    html = str(filterset.form["am"])
    assert 'data-picker="/lookup/users/"' in html
    assert f'<option value="{owner.pk}" selected>{owner}</option>' in html
    filterset = Filter({"am": outsider.pk}, queryset=Client.objects.all())
    assert list(filterset.qs) == [theirs]
