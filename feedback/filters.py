"""Filters of the complaint list and board, shared by the pages and the API."""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, TargetSegment
from clients.pickers import ROLE_EVERYONE, USERS
from crm.filters import DateFilter, FilterSet, style_widgets
from crm.models import User
from crm.pickers import RecordFilter
from feedback.models import Complaint, Priority, Theme
from feedback.selectors import overdue_q


class ComplaintFilter(FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Complaint.Status.choices, empty_label=_("any status")
    )
    theme = django_filters.ModelChoiceFilter(
        label=_("Theme"), queryset=Theme.objects.all(), empty_label=_("any theme")
    )
    # every user, a departed one too: the complaints they were responsible for stay findable
    responsible = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_EVERYONE},
        label=_("Responsible"),
        queryset=User.objects.all(),
        empty_label=_("anyone"),
    )
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=Priority.choices, empty_label=_("any priority")
    )
    # the page has no field for it (the client card links to its complaints); the API has
    client = django_filters.ModelChoiceFilter(label=_("Client"), queryset=Client.objects.all())
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"),
        method="overdue_only",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    # the dashboard's drill-down (no field on the page; kept in the query string)
    registered_from = DateFilter(label=_("Registered from"), method="filter_from")
    registered_to = DateFilter(label=_("Registered until (inclusive)"), method="filter_to")
    account_manager = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_EVERYONE},
        label=_("Account manager"),
        queryset=User.objects.all(),
        field_name="client__account_manager",
        empty_label=_("anyone"),
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Target segment"),
        queryset=TargetSegment.objects.all(),
        field_name="client__target_segment",
    )
    open = django_filters.BooleanFilter(label=_("Open only"), method="open_only")
    with_cost = django_filters.BooleanFilter(label=_("With a goodwill gift"), method="with_gift")

    class Meta:
        model = Complaint
        fields: list[str] = []

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    @property
    def form(self):
        return style_widgets(super().form, ("status", "theme", "responsible", "priority"))

    def overdue_only(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(overdue_q(self.now or timezone.now()))

    def _bound(self, day) -> datetime:
        return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())

    def filter_from(self, queryset, name, value):
        return queryset.filter(registered_at__gte=self._bound(value)) if value else queryset

    def filter_to(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(registered_at__lt=self._bound(value + timedelta(days=1)))

    def open_only(self, queryset, name, value):
        if value is None:
            return queryset
        condition = {"status__in": Complaint.OPEN_STATUSES}
        return queryset.filter(**condition) if value else queryset.exclude(**condition)

    def with_gift(self, queryset, name, value):
        return queryset.filter(goodwill_cost__gt=0) if value else queryset

    def cache_key(self) -> str:
        """The filters in use, from the cleaned data, as a part of a cache key (the list's
        cached count): the same filters give the same key however the query string spells
        them."""
        if not (self.is_bound and self.is_valid()):
            return ""
        data = self.form.cleaned_data
        return ":".join(
            f"{name}={getattr(value, 'pk', value)}"
            for name, value in sorted(data.items())
            if value not in (None, "", False)
        )

    @property
    def overdue_used(self) -> bool:
        return bool(self.is_bound and self.is_valid() and self.form.cleaned_data.get("overdue"))


class ComplaintBoardFilter(ComplaintFilter):
    """The board's filters: its columns are the statuses, so no status filter."""

    status = None
