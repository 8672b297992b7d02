"""Filters of the client list, shared by the page, the export and the API."""

import django_filters
from django.db.models import F, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from clients.models import AbcClass, Client, Lifecycle, Tag, TargetSegment, XyzClass
from clients.pickers import ROLE_ACCOUNT_MANAGER, USERS
from clients.search import client_search
from crm.models import User
from crm.pickers import RecordFilter
from segmentation.models import ClientMetrics

NONE = "none"  # the filter value for "no class yet"

# Each order but "abc" is served by an index of Client.Meta (PostgreSQL scans a DESC NULLS
# LAST index backwards for the ASC NULLS FIRST order). Clients never contacted come first under
# "longest without contact" and last under "latest contact".
SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "last_contact": (F("last_contact_at").asc(nulls_first=True), "id"),
    "-last_contact": (F("last_contact_at").desc(nulls_last=True), "-id"),
    "next_step": (F("next_step_date").asc(nulls_last=True), "id"),
    "-created": ("-created_at", "-id"),
    # ABC order is the rank order (A, B, C; the largest client first in each class); the rank
    # is segmentation's (its narrow per-client table, index segmetrics_rank_idx)
    "abc": (F("segmentation__abc_rank").asc(nulls_last=True), "id"),
}
SORT_CHOICES = [
    ("name", _("Name A→Z")),
    ("-name", _("Name Z→A")),
    ("last_contact", _("Longest without contact")),
    ("-last_contact", _("Latest contact")),
    ("next_step", _("Next step date")),
    ("-created", _("Newest first")),
    ("abc", _("ABC class, largest first")),
]


def _with_none(choices):
    return [*choices, (NONE, "—")]


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
    abc = django_filters.ChoiceFilter(
        label=_("ABC"), choices=_with_none(AbcClass.choices), method="class_filter"
    )
    xyz = django_filters.ChoiceFilter(
        label=_("XYZ"), choices=_with_none(XyzClass.choices), method="class_filter"
    )
    lifecycle = django_filters.ChoiceFilter(
        label=_("Lifecycle"), choices=_with_none(Lifecycle.choices), method="class_filter"
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort"), choices=SORT_CHOICES, method="sort_by", empty_label=None
    )

    class Meta:
        model = Client
        fields: list[str] = []

    # client.segmentation: no row (a client added since the last run) means no class too
    FIELDS = {
        "abc": "segmentation__abc_class",
        "xyz": "segmentation__xyz_class",
        "lifecycle": "segmentation__lifecycle",
    }

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        if user is not None and not user.sees_everything:
            del self.filters["am"]  # an account manager's list holds only their own clients

    @property
    def form(self):
        form = super().form
        for name, field in form.fields.items():
            css = "form-control form-control-sm" if name == "q" else "form-select form-select-sm"
            field.widget.attrs.setdefault("class", css)
        form.fields["q"].widget.attrs.setdefault("placeholder", _("Name, tax id, email or phone"))
        return form

    CLASS_FILTERS = ("abc", "xyz", "lifecycle")

    def _whole_base_filters(self) -> dict | None:
        """The filters in use (besides the sort) on a manager's list of all clients; None
        for an account manager's scoped list or an invalid filter set."""
        user = self.user
        if not (user is not None and user.sees_everything and self.is_bound and self.is_valid()):
            return None
        data = self.form.cleaned_data
        return {name: data[name] for name in self.filters if name != "sort" and data.get(name)}

    def total_from_classes(self) -> int | None:
        """The list's total read from the narrow class table alone, when nothing but class
        filters applies to a list of all clients: every class row belongs to an existing
        client (the run writes rows of existing clients only and removes rows of clients it
        no longer sees; Django deletes a client's row with it), so the count needs no join
        with the wide client table. None when another filter, a "none" class or a narrower
        scope applies (the paginator then counts the list itself)."""
        used = self._whole_base_filters()
        if not used or set(used) - set(self.CLASS_FILTERS) or NONE in used.values():
            return None
        classes = {self.FIELDS[name].removeprefix("segmentation__"): v for name, v in used.items()}
        return ClientMetrics.objects.filter(**classes).count()

    def whole_base_by_abc(self) -> bool:
        """All clients (a manager, no filter) sorted by ABC: the page is read from the class
        table's rank index (selectors.paginate_by_abc_rank) instead of sorting a left join
        of every client. A class filter joins the class table anyway (its rank index serves
        the sort then); other filters narrow the list enough to sort it whole."""
        return self._whole_base_filters() == {} and self.form.cleaned_data.get("sort") == "abc"

    def by_own_clients(self) -> bool:
        """The list is one account manager's clients (an account manager's own list, or a
        manager's list filtered by account manager): a few thousand of the base's clients.
        Class filters and the ABC sort then read each of those clients' class row by primary
        key (``current_class``) instead of joining the class table, which PostgreSQL hashes
        whole: the cost follows the account manager's clients, not the size of the base."""
        if self.user is not None and not self.user.sees_everything:
            return True
        form = self.form
        return self.is_bound and form.is_valid() and form.cleaned_data.get("am") is not None

    def class_filter(self, queryset, name, value):
        field = self.FIELDS[name]
        if self.by_own_clients():
            column = field.removeprefix("segmentation__")
            field = f"current_{column}"
            queryset = queryset.alias(**{field: current_class(column)})
        return queryset.filter(**{f"{field}__isnull": True} if value == NONE else {field: value})

    def search(self, queryset, name, value):
        return client_search(queryset, value)

    def sort_by(self, queryset, name, value):
        if value == "abc" and self.by_own_clients():  # same order as SORTS["abc"]
            return queryset.order_by(current_class("abc_rank").asc(nulls_last=True), "id")
        return queryset.order_by(*SORTS.get(value, SORTS["name"]))


def current_class(column: str) -> Subquery:
    """The client's ``column`` of its class row (NULL without a row, as through the join),
    as a correlated subquery: one primary-key lookup per client of the list."""
    return Subquery(ClientMetrics.objects.filter(client=OuterRef("pk")).values(column))
