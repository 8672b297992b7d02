"""The record picker's kinds (``crm.pickers``) and their scoped JSON endpoints:
``/lookup/clients/``, ``/lookup/contacts/?client=<id>``, ``/lookup/products/`` and
``/lookup/users/?role=<role>``. Each answers ``?q=<text>&page=<n>`` with
``{"results": [{"id", "text"}], "more": bool}``, row-level scoped exactly as the pages are
(``crm.access``): an account manager finds only their own clients and those clients'
contacts; a client they may not see is a 404, as on its card."""

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from clients.models import Client, ContactPerson, Product
from clients.search import client_search
from clients.services import phone_digits
from crm.access import get_for_user, scope_for_user, users_who_may_see
from crm.models import User
from crm.pickers import BadLookup, Lookup, bad_lookup, lookup_page, positive_int


def _client_label(client: Client) -> str:
    return f"{client.name} · {client.inn}" if client.inn else client.name


def _contact_search(queryset: QuerySet, text: str) -> QuerySet:
    condition = Q(full_name__icontains=text) | Q(email__icontains=text)
    digits = phone_digits(text)
    if len(digits) >= 5 and not text.isalpha():
        condition |= Q(phone_digits__endswith=digits)
    return queryset.filter(condition)


def _contact_label(contact: ContactPerson) -> str:
    return f"{contact.full_name} · {contact.position}" if contact.position else contact.full_name


def _product_search(queryset: QuerySet, text: str) -> QuerySet:
    return queryset.filter(Q(name__icontains=text) | Q(code__istartswith=text))


def _product_label(product: Product) -> str:
    return f"{product.name} · {product.code}" if product.code else product.name


def _user_search(queryset: QuerySet, text: str) -> QuerySet:
    condition = Q(username__icontains=text) | Q(email__icontains=text)
    for word in text.split()[:3]:
        condition |= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return queryset.filter(condition)


CLIENTS = Lookup(
    url_name="lookup-clients",
    search=client_search,
    # the list's name order: served by client_name_idx / client_am_name_idx
    order=("name", "id"),
    label=_client_label,
    columns=("id", "name", "inn"),
    hint=gettext_lazy("a name, tax id, email or phone"),
)
CONTACTS = Lookup(
    url_name="lookup-contacts",
    search=_contact_search,
    order=("-is_primary", "full_name", "id"),
    label=_contact_label,
    columns=("id", "full_name", "position", "is_primary"),
    requires=("client",),
    waiting=gettext_lazy("Choose the client first"),
    hint=gettext_lazy("a name, email or phone"),
)
PRODUCTS = Lookup(
    url_name="lookup-products",
    search=_product_search,
    order=("name", "id"),
    label=_product_label,
    columns=("id", "name", "code"),
    hint=gettext_lazy("a name or code"),
)
USERS = Lookup(
    url_name="lookup-users",
    search=_user_search,
    order=("first_name", "last_name", "username", "id"),
    label=str,
    columns=("id", "username", "first_name", "last_name"),
    hint=gettext_lazy("a name, login or email"),
)

# The roles a user picker offers (``?role=``) and who may hold each.
ROLE_ANY = "any"
ROLE_ACCOUNT_MANAGER = "account_manager"
ROLE_RESPONSIBLE = "responsible"
# every user, a departed one too (filters: their past records stay findable)
ROLE_EVERYONE = "everyone"
ROLES = (ROLE_ANY, ROLE_ACCOUNT_MANAGER, ROLE_RESPONSIBLE, ROLE_EVERYONE)


def users_for_role(role: str = ROLE_ANY, client: Client | None = None) -> QuerySet[User]:
    """Active users who may hold ``role``: an account manager is an account manager or a
    manager (not an administrator); the responsible for a client's record is whoever may see
    the client (admins, managers, its account manager); "any" is every active user;
    "everyone" every user, inactive ones too."""
    if role == ROLE_ACCOUNT_MANAGER:
        return User.objects.filter(
            is_active=True, role__in=[User.Role.ACCOUNT_MANAGER, User.Role.MANAGER]
        )
    if role == ROLE_RESPONSIBLE and client is not None:
        return users_who_may_see(client)
    if role == ROLE_EVERYONE:
        return User.objects.all()
    return User.objects.filter(is_active=True)


def products_to_pick() -> QuerySet[Product]:
    """Products a new record may name: the active ones."""
    return Product.objects.filter(is_active=True)


def _client_param(request, *, required: bool) -> Client | None:
    """The ``client`` parameter as a client the user may see (Http404 otherwise)."""
    pk = positive_int(request.GET.get("client"), "client", required=required)
    if pk is None:
        return None
    return get_for_user(Client.objects.select_related("account_manager"), request.user, pk=pk)


def _answer(request, lookup: Lookup, queryset_of):
    try:
        queryset = queryset_of(request)
    except BadLookup as exc:
        return bad_lookup(exc)
    except Http404:
        return bad_lookup(_("Not found."), status=404)
    return lookup_page(request, lookup, queryset)


@require_GET
@login_required
def clients(request):
    """The user's clients; ``?exclude=<id>``: but that one (a client is not its own parent)."""

    def queryset_of(r):
        queryset = scope_for_user(Client.objects.all(), r.user)
        exclude = positive_int(r.GET.get("exclude"), "exclude")
        return queryset.exclude(pk=exclude) if exclude else queryset

    return _answer(request, CLIENTS, queryset_of)


@require_GET
@login_required
def contacts(request):
    """Contacts of the one client given by ``?client=`` (required), if the user may see it."""

    def queryset_of(r):
        client = _client_param(r, required=True)
        return ContactPerson.objects.filter(client=client)

    return _answer(request, CONTACTS, queryset_of)


@require_GET
@login_required
def products(request):
    return _answer(request, PRODUCTS, lambda r: products_to_pick())


@require_GET
@login_required
def users(request):
    """Users who may hold ``?role=`` (any, account_manager, responsible, everyone); a
    responsible for a given ``?client=`` is someone who may see that client."""

    def queryset_of(r):
        role = r.GET.get("role") or ROLE_ANY
        if role not in ROLES:
            raise BadLookup(_("Unknown role “%(role)s”.") % {"role": role[:50]})
        client = _client_param(r, required=False) if role == ROLE_RESPONSIBLE else None
        return users_for_role(role, client)

    return _answer(request, USERS, queryset_of)
