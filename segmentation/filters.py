"""Filters of segmentation's lists (class changes, metrics, the run log), shared by the pages
and the API."""

from datetime import date

import django_filters
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from clients.models import TargetSegment
from crm.filters import DateFilter, FilterSet
from crm.models import User
from segmentation.forms import month_to_date
from segmentation.models import ClassChange, ClientMetrics, SegmentationRun
from segmentation.selectors import CHANGE_KINDS

KIND_CHOICES = [
    ("up", ClassChange.AbcMove.UP.label),
    ("down", ClassChange.AbcMove.DOWN.label),
    ("gained", ClassChange.AbcMove.GAINED.label),
    ("dropped", ClassChange.AbcMove.DROPPED.label),
    ("new", _("new clients")),
    ("lost", _("lost clients")),
    ("restored", _("restored clients")),
]


class ClassChangeFilter(FilterSet):
    """Class changes: by client, run, date, move, new status; ``kind`` is a kind the report
    counts (``selectors.CHANGE_KINDS``); ``start``/``end`` the period, both days included, in
    either order. The page always has a period: ``default_period=True`` puts this month in
    for a missing end of it."""

    start = DateFilter(label=_("from"), field_name="date", method="from_start")
    end = DateFilter(label=_("to"), field_name="date", method="to_end")
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=KIND_CHOICES, method="of_kind")
    # the dashboard's drill-down
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
        model = ClassChange
        fields = {
            "client": ["exact"],
            "run": ["exact"],
            "date": ["gte", "lte", "exact"],
            "abc_move": ["exact"],
            "lifecycle_new": ["exact"],
        }

    def __init__(self, data=None, *args, default_period: bool = False, **kwargs):
        if default_period:
            data = data.copy() if data is not None else QueryDict(mutable=True)
            start, end = month_to_date()
            if not data.get("start"):
                data["start"] = start.isoformat()
            if not data.get("end"):
                data["end"] = end.isoformat()
        super().__init__(data, *args, **kwargs)

    def period(self) -> tuple[date, date]:
        """The period asked for (ends swapped if reversed); this month for a missing or
        invalid one."""
        start, end = month_to_date()
        if self.is_bound and self.is_valid():
            start = self.form.cleaned_data.get("start") or start
            end = self.form.cleaned_data.get("end") or end
        return min(start, end), max(start, end)

    def _bounds(self):
        data = self.form.cleaned_data
        given = [d for d in (data.get("start"), data.get("end")) if d]
        return min(given), max(given)

    def from_start(self, queryset, name, value):
        return queryset.filter(date__gte=self._bounds()[0])

    def to_end(self, queryset, name, value):
        return queryset.filter(date__lte=self._bounds()[1])

    def of_kind(self, queryset, name, value):
        return queryset.filter(CHANGE_KINDS[value])


class MetricsFilter(FilterSet):
    class Meta:
        model = ClientMetrics
        fields = {
            "client": ["exact"],
            "abc_class": ["exact", "isnull"],
            "xyz_class": ["exact", "isnull"],
            "lifecycle": ["exact"],
            "r_score": ["exact"],
            "f_score": ["exact"],
            "m_score": ["exact"],
        }


class RunFilter(FilterSet):
    class Meta:
        model = SegmentationRun
        fields = ["status", "trigger"]
