"""The funnel page's (and API's) choices: the period — a month, a quarter, a year or custom
dates, as a half-open ``crm.periods.Period`` — the pipeline, owner, product line and the
client's ABC class."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.models import ProductLine
from crm.filters import style_widgets
from crm.models import User
from crm.periods import Period, add_months, month_start
from crm.validators import DateField
from sales.funnel import NONE, FunnelFilters, default_pipeline
from sales.models import Pipeline

CUSTOM = "custom"


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_choices(today: date) -> list[tuple[str, str]]:
    """The current and previous quarters (8), months (12), years (3), custom dates."""
    choices: list[tuple[str, str]] = []
    quarter = quarter_start(today)
    for back in range(8):
        start = add_months(quarter, -3 * back)
        q = (start.month - 1) // 3 + 1
        choices.append((f"q{start.year}-{q}", _("Q%(q)s %(year)s") % {"q": q, "year": start.year}))
    first = month_start(today)
    for back in range(12):
        start = add_months(first, -back)
        choices.append((f"m{start:%Y-%m}", date_format(start, "YEAR_MONTH_FORMAT")))
    for back in range(3):
        choices.append((f"y{today.year - back}", str(today.year - back)))
    choices.append((CUSTOM, str(pgettext_lazy("funnel", "custom dates"))))
    return choices


def parse_period(value: str, today: date) -> Period:
    """A choice of ``period_choices`` (not custom) as a half-open period; default: this quarter."""
    if value.startswith("m"):
        year, month = (int(x) for x in value[1:].split("-"))
        start = date(year, month, 1)
        return Period(start, add_months(start, 1))
    if value.startswith("q"):
        year, q = (int(x) for x in value[1:].split("-"))
        start = date(year, 3 * (q - 1) + 1, 1)
        return Period(start, add_months(start, 3))
    if value.startswith("y"):
        start = date(int(value[1:]), 1, 1)
        return Period(start, add_months(start, 12))
    start = quarter_start(today)
    return Period(start, add_months(start, 3))


class FunnelForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), required=False)
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), required=False, empty_label=None
    )
    owner = forms.ModelChoiceField(
        label=pgettext_lazy("funnel", "Owner"),
        queryset=User.objects.filter(
            role__in=[User.Role.ACCOUNT_MANAGER, User.Role.MANAGER]
        ).order_by("last_name", "first_name", "id"),
        required=False,
        empty_label=_("all"),
    )
    product_line = forms.ModelChoiceField(
        label=_("Product line"),
        queryset=ProductLine.objects.all(),
        required=False,
        empty_label=_("all"),
    )
    abc = forms.ChoiceField(
        label=_("ABC class"),
        required=False,
        choices=[("", _("all")), ("A", "A"), ("B", "B"), ("C", "C"), (NONE, _("no class"))],
    )

    def __init__(self, *args, user, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["period"].choices = period_choices(today)
        style_widgets(self)
        if not getattr(user, "sees_everything", False):
            del self.fields["owner"]

    def clean(self):
        data = super().clean()
        if data.get("period") == CUSTOM:
            start, end = data.get("date_from"), data.get("date_to")
            if not start or not end:
                raise forms.ValidationError(_("Custom dates: give both the first and last day."))
            if start > end:
                raise forms.ValidationError(_("The period must start before it ends."))
            if (end - start).days > 3 * 366:
                raise forms.ValidationError(_("A custom period is at most three years long."))
        return data

    def filters(self) -> FunnelFilters | None:
        """What was asked for (the defaults for what was not); None: no pipeline exists."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        value = data.get("period") or ""
        if value == CUSTOM:
            period = Period(data["date_from"], data["date_to"] + timedelta(days=1))
        else:
            period = parse_period(value, self.today)
        pipeline = data.get("pipeline") or default_pipeline()
        if pipeline is None:
            return None
        owner = data.get("owner")
        line = data.get("product_line")
        return FunnelFilters(
            period=period,
            pipeline=pipeline,
            owner_id=owner.pk if owner else None,
            product_line_id=line.pk if line else None,
            abc=data.get("abc") or None,
        )
