"""Filters of the survey answers list (page and API) and the analytics page's period and
account-manager choice. The answers list is where every analytics figure links: a figure's
link carries the same filters, so the list shows the answers behind it."""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from clients.models import ProductLine, TargetSegment
from clients.pickers import ROLE_EVERYONE, USERS
from crm.filters import DateFilter, FilterSet, style_widgets
from crm.models import User
from crm.periods import Period, add_months, month_start
from crm.pickers import RecordFilter
from feedback.models import Theme
from segmentation.models import AbcClass, Lifecycle, XyzClass
from surveys import analytics, metrics
from surveys.models import Answer, Campaign

NONE = analytics.NONE
BANDS = [
    ("promoter", _("promoters (9–10)")),
    ("passive", _("passives (7–8)")),
    ("detractor", _("detractors (0–6)")),
]


def _class_choices(choices):
    return [*choices, (NONE, _("no class"))]


class AnswerFilter(FilterSet):
    date_from = DateFilter(label=_("Submitted from"), method="filter_from")
    date_to = DateFilter(label=_("Submitted until (inclusive)"), method="filter_to")
    campaign = django_filters.ModelChoiceFilter(
        label=_("Campaign"),
        queryset=Campaign.objects.all(),
        field_name="campaign",
        empty_label=_("any campaign"),
    )
    band = django_filters.ChoiceFilter(
        label=_("NPS band"), choices=BANDS, method="filter_band", empty_label=_("any band")
    )
    nps_min = django_filters.NumberFilter(
        label=_("Score from"), field_name="nps", lookup_expr="gte", min_value=0, max_value=10
    )
    nps_max = django_filters.NumberFilter(
        label=_("Score to"), field_name="nps", lookup_expr="lte", min_value=0, max_value=10
    )
    abc = django_filters.ChoiceFilter(
        label=_("ABC class"),
        choices=_class_choices(AbcClass.choices),
        method="filter_class",
        empty_label=_("any"),
    )
    xyz = django_filters.ChoiceFilter(
        label=_("XYZ class"),
        choices=_class_choices(XyzClass.choices),
        method="filter_class",
        empty_label=_("any"),
    )
    lifecycle = django_filters.ChoiceFilter(
        label=_("Lifecycle status"),
        choices=_class_choices(Lifecycle.choices),
        method="filter_class",
        empty_label=_("any"),
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Target segment"),
        queryset=TargetSegment.objects.all(),
        field_name="client__target_segment",
        null_label=_("no segment"),
        null_value=NONE,
        empty_label=_("any segment"),
    )
    account_manager = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_EVERYONE},
        label=_("Account manager"),
        queryset=User.objects.all(),
        field_name="client__account_manager",
        empty_label=_("anyone"),
    )
    product_line = django_filters.ModelChoiceFilter(
        label=_("Product line (a scored item)"),
        queryset=ProductLine.objects.all(),
        field_name="items__item__product_line",
        method="filter_line",
        empty_label=_("any line"),
    )
    best_employee = django_filters.ModelChoiceFilter(
        label=_("Named as best employee"),
        queryset=User.objects.all(),
        field_name="best_employee",
    )
    theme = django_filters.ModelChoiceFilter(
        label=_("Comment theme"),
        queryset=Theme.objects.all(),
        field_name="themes",
        empty_label=_("any theme"),
    )
    has_complaint = django_filters.BooleanFilter(
        label=_("With a complaint case"), field_name="complaint", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = Answer
        fields: list[str] = []

    @property
    def form(self):
        return style_widgets(super().form)

    def _bound(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())

    def filter_from(self, queryset, name, value):
        return queryset.filter(submitted_at__gte=self._bound(value)) if value else queryset

    def filter_to(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(submitted_at__lt=self._bound(value + timedelta(days=1)))

    def filter_band(self, queryset, name, value):
        return queryset.filter(
            {
                "promoter": Q(nps__gte=metrics.PROMOTER_MIN),
                "passive": Q(nps__gt=metrics.DETRACTOR_MAX, nps__lt=metrics.PROMOTER_MIN),
                "detractor": Q(nps__lte=metrics.DETRACTOR_MAX),
            }[value]
        )

    def filter_class(self, queryset, name, value):
        lookup = analytics.DIMENSIONS[name]
        if value == NONE:
            return queryset.filter(**{f"{lookup}__isnull": True})
        return queryset.filter(**{lookup: value})

    def filter_line(self, queryset, name, value):
        return queryset.filter(analytics.has_line(value.pk)) if value else queryset


# --- the analytics page's period ---------------------------------------------------------------
LAST_12 = "last12"


def period_choices(today: date) -> list[tuple[str, str]]:
    """The last 12 months in all, each of the last 12 months, each of the last 8 quarters."""
    choices = [(LAST_12, str(_("last 12 months")))]
    first = month_start(today)
    for back in range(12):
        start = add_months(first, -back)
        choices.append((f"m{start:%Y-%m}", date_format(start, "YEAR_MONTH_FORMAT")))
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    for back in range(8):
        start = add_months(quarter, -3 * back)
        q = (start.month - 1) // 3 + 1
        choices.append((f"q{start.year}-{q}", _("Q%(q)s %(year)s") % {"q": q, "year": start.year}))
    return choices


def parse_period(value: str, today: date) -> Period:
    """A choice of ``period_choices`` as a half-open period of days."""
    if value.startswith("m"):
        year, month = (int(x) for x in value[1:].split("-"))
        start = date(year, month, 1)
        return Period(start, add_months(start, 1))
    if value.startswith("q"):
        year, q = (int(x) for x in value[1:].split("-"))
        start = date(year, 3 * (q - 1) + 1, 1)
        return Period(start, add_months(start, 3))
    end = add_months(month_start(today), 1)
    return Period(add_months(end, -12), end)


class AnalyticsForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), required=False)
    account_manager = forms.ModelChoiceField(
        label=_("Account manager"),
        queryset=User.objects.filter(role=User.Role.ACCOUNT_MANAGER),
        required=False,
        empty_label=_("all"),
    )

    def __init__(self, *args, user, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["period"].choices = period_choices(today)
        style_widgets(self)
        if not getattr(user, "sees_everything", False):
            del self.fields["account_manager"]

    def chosen(self) -> tuple[Period, Period, int | None]:
        """The period, the trend's 12 months ending with it, the account manager's id."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = parse_period(data.get("period") or LAST_12, self.today)
        trend_end = add_months(month_start(period.end - timedelta(days=1)), 1)
        am = data.get("account_manager")
        return period, Period(add_months(trend_end, -12), trend_end), am.pk if am else None
