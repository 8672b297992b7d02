"""Filters of the client × product board and the period selector of the period report, shared
by the pages, the exports and the API."""

from datetime import timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, TargetSegment
from clients.pickers import ROLE_ACCOUNT_MANAGER, USERS
from crm.filters import FilterSet
from crm.models import User
from crm.periods import Period
from crm.pickers import RecordField, RecordFilter
from crm.validators import DateField
from sales import product_board, reports

ABC_FILTER_CHOICES = [("A", "A"), ("B", "B"), ("C", "C"), (product_board.NO_CLASS, "—")]


class BoardFilter(FilterSet):
    am = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_ACCOUNT_MANAGER},
        label=_("Account manager"),
        field_name="account_manager",
        queryset=User.objects.filter(is_active=True),
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Target segment"), field_name="target_segment", queryset=TargetSegment.objects.all()
    )
    abc = django_filters.ChoiceFilter(
        label=_("ABC class"), choices=ABC_FILTER_CHOICES, method="filter_abc"
    )
    lines = django_filters.BooleanFilter(
        label=_("Columns: product lines"),
        method="noop",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Client
        fields: list[str] = []

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, user=user, **kwargs)
        if self.user is not None and not self.user.sees_everything:
            del self.filters["am"]  # an account manager's board holds only their own clients

    def filter_abc(self, queryset, name, value):
        return product_board.filter_abc(queryset, value)

    def noop(self, queryset, name, value):
        return queryset

    @property
    def tally(self) -> dict | None:
        """For a manager's board narrowed by segment and/or ABC class only (no account
        manager): the filters as ``product_board.board_page`` reads the group sizes from the
        tally; otherwise None (the groups are counted)."""
        if self.user is None or not self.user.sees_everything:
            return None
        if self.is_bound and not self.is_valid():
            return None
        data = self.form.cleaned_data if self.is_bound else {}
        if data.get("am"):
            return None
        segment = data.get("segment")
        return {"segment_id": segment.pk if segment else None, "abc": data.get("abc") or None}

    @property
    def by_lines(self) -> bool:
        return bool(self.is_valid() and self.form.cleaned_data.get("lines"))


PERIOD_CHOICES = [
    (reports.MONTH, _("Month")),
    (reports.QUARTER, _("Quarter")),
    (reports.YEAR, _("Year")),
    (reports.CUSTOM, _("Custom")),
]


class ReportForm(forms.Form):
    """The period (a calendar month, quarter or year holding a day, or any days) and, for
    managers, one account manager."""

    period = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, required=False, initial=reports.QUARTER
    )
    on = DateField(
        label=_("Containing the day"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
    )
    start = DateField(label=_("from"), required=False, widget=forms.DateInput({"type": "date"}))
    end = DateField(label=_("to"), required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.sees_everything:
            self.fields["am"] = RecordField(
                USERS,
                label=_("Account manager"),
                required=False,
                queryset=User.objects.filter(is_active=True),
                params={"role": ROLE_ACCOUNT_MANAGER},
            )

    def clean(self):
        data = super().clean()
        kind = data.get("period") or reports.QUARTER
        data["period"] = kind
        if kind == reports.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Give both days of a custom period."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
        return data

    def report_period(self) -> Period:
        """The chosen period; the current quarter when nothing (or something invalid) is given."""
        today = timezone.localdate()
        if not self.is_bound or not self.is_valid():
            return reports.period_of(reports.QUARTER, today)
        data = self.cleaned_data
        if data["period"] == reports.CUSTOM:
            return Period(data["start"], data["end"] + timedelta(days=1))
        return reports.period_of(data["period"], data.get("on") or today)

    def account_manager(self):
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("am")
        return None
