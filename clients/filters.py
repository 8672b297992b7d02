"""Filters of the client list, shared by the page, the export and the API.

Other apps add filters and sorts through ``clients.extensions`` (segmentation: the class filters
and the ABC order); they join this FilterSet's class when they register, so the API schema
lists them too."""

from collections import OrderedDict

import django_filters
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import extensions
from clients.models import (
    Client,
    ContactPerson,
    Interaction,
    Product,
    Settlement,
    Tag,
    TargetSegment,
)
from clients.pickers import ROLE_ACCOUNT_MANAGER, USERS
from clients.search import client_search
from clients.selectors import overdue_for_contact, overdue_promise_clients
from crm.filters import FilterSet, style_widgets
from crm.models import User
from crm.pickers import RecordFilter

# Each order is served by an index of Client.Meta (PostgreSQL scans a DESC NULLS LAST index
# backwards for the ASC NULLS FIRST order). Clients never contacted come first under "longest
# without contact" and last under "latest contact". Extensions add their own sorts.
SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "last_contact": (F("last_contact_at").asc(nulls_first=True), "id"),
    "-last_contact": (F("last_contact_at").desc(nulls_last=True), "-id"),
    "next_step": (F("next_step_date").asc(nulls_last=True), "id"),
    "-created": ("-created_at", "-id"),
}
SORT_CHOICES = [
    ("name", _("Name A→Z")),
    ("-name", _("Name Z→A")),
    ("last_contact", _("Longest without contact")),
    ("-last_contact", _("Latest contact")),
    ("next_step", _("Next step date")),
    ("-created", _("Newest first")),
]


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    segment = django_filters.ModelChoiceFilter(
        label=_("Target segment"), field_name="target_segment", queryset=TargetSegment.objects.all()
    )
    am = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_ACCOUNT_MANAGER},
        label=_("Account manager"),
        field_name="account_manager",
        queryset=User.objects.filter(is_active=True),
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), field_name="tags", queryset=Tag.objects.all()
    )
    # the dashboard's drill-down (no field on the page; kept in the query string)
    contact_overdue = django_filters.BooleanFilter(
        label=_("Overdue for contact"), method="filter_contact_overdue"
    )
    promise_overdue = django_filters.BooleanFilter(
        label=_("With an overdue promise"), method="filter_promise_overdue"
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=SORT_CHOICES, method="sort_by", empty_label=None
    )

    class Meta:
        model = Client
        fields: list[str] = []

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        if user is not None and not user.sees_everything:
            del self.filters["am"]  # an account manager's list holds only their own clients

    @property
    def form(self):
        form = style_widgets(super().form)
        form.fields["q"].widget.attrs.setdefault("placeholder", _("Name, tax id, email or phone"))
        return form

    def _whole_base_filters(self) -> dict | None:
        """The filters in use (besides the sort) on a manager's list of all clients; None
        for an account manager's scoped list or an invalid filter set."""
        user = self.user
        if not (user is not None and user.sees_everything and self.is_bound and self.is_valid()):
            return None
        data = self.form.cleaned_data
        return {name: data[name] for name in self.filters if name != "sort" and data.get(name)}

    def is_whole_base(self) -> bool:
        """A manager's list of all clients: no filter narrows it (a sort does not; invalid
        filters are ignored). Its total is the client tally (``selectors.client_total``)."""
        user = self.user
        if user is None or not user.sees_everything:
            return False
        return not (self.is_bound and self.is_valid()) or self._whole_base_filters() == {}

    def is_search(self) -> bool:
        """Does a search narrow the list? (Its total is then counted up to a cap.)"""
        return bool(
            self.is_bound and self.is_valid() and (self.form.cleaned_data.get("q") or "").strip()
        )

    def total_from_extensions(self) -> int | None:
        """The list's exact size when an extension knows it more cheaply than a COUNT over
        the list (a manager's list of the whole base with only its filters in use), else
        None (the paginator then counts the list itself)."""
        used = self._whole_base_filters()
        if not used:
            return None
        for extension in extensions.client_list_extensions():
            if extension.total and (total := extension.total(used)) is not None:
                return total
        return None

    def extension_page(self, queryset, number, per_page: int):
        """A page of the whole base read by an extension's cheaper way for the chosen sort
        (segmentation: all clients in ABC order from its rank index), or None."""
        used = self._whole_base_filters()
        if used is None:
            return None
        sort = self.form.cleaned_data.get("sort") or "name"
        for extension in extensions.client_list_extensions():
            if extension.paginate and (
                page := extension.paginate(queryset, used, sort, number, per_page)
            ):
                return page
        return None

    def by_own_clients(self) -> bool:
        """The list is one account manager's clients (an account manager's own list, or a
        manager's list filtered by account manager): a few thousand of the base's clients.
        Extensions then read each client's related rows by key instead of joining whole
        tables (extensions.ListScope)."""
        if self.user is not None and not self.user.sees_everything:
            return True
        form = self.form
        return self.is_bound and form.is_valid() and form.cleaned_data.get("am") is not None

    def scope(self) -> extensions.ListScope:
        return extensions.ListScope(own_clients=self.by_own_clients())

    def extension_filter(self, queryset, name, value):
        for extension in extensions.client_list_extensions():
            if name in extension.filters:
                return extension.apply_filter(queryset, name, value, self.scope())
        return queryset

    def search(self, queryset, name, value):
        return client_search(queryset, value)

    def filter_contact_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(pk__in=overdue_for_contact(Client.objects.all()).values("pk"))

    def filter_promise_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(pk__in=overdue_promise_clients(timezone.localdate()))

    def sort_by(self, queryset, name, value):
        for extension in extensions.client_list_extensions():
            if value in extension.sorts:
                return extension.sorts[value].apply(queryset, self.scope())
        return queryset.order_by(*SORTS.get(value, SORTS["name"]))


def _add_extension(extension: extensions.ClientListExtension) -> None:
    """Put an extension's filters before the sort and its sorts among the choices."""
    filters = OrderedDict(ClientFilter.base_filters)
    sort = filters.pop("sort")
    for name, make in extension.filters.items():
        new = make()
        new.field_name = name
        new.method = "extension_filter"
        filters[name] = new
    sort.extra["choices"] = [
        *sort.extra["choices"],
        *((key, s.label) for key, s in extension.sorts.items()),
    ]
    filters["sort"] = sort
    ClientFilter.base_filters = filters


extensions.on_client_list_extension(_add_extension)


# The other lists of the client base (the API's; the card shows a client's own rows).
class ContactFilter(FilterSet):
    class Meta:
        model = ContactPerson
        fields = ["client", "is_primary", "survey_opt_out"]


class SettlementFilter(FilterSet):
    account_manager = django_filters.ModelChoiceFilter(
        label=_("Account manager"),
        field_name="client__account_manager",
        queryset=User.objects.all(),
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Target segment"),
        field_name="client__target_segment",
        queryset=TargetSegment.objects.all(),
    )

    class Meta:
        model = Settlement
        fields = {"client": ["exact"], "product": ["exact"], "date": ["gte", "lte", "exact"]}


class InteractionFilter(FilterSet):
    class Meta:
        model = Interaction
        fields = {
            "client": ["exact"],
            "kind": ["exact"],
            "next_step_date": ["gte", "lte"],
            "promise_due": ["gte", "lte"],
        }


class ProductFilter(FilterSet):
    class Meta:
        model = Product
        fields = ["line", "is_active"]
