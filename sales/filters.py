"""Filters of the deal list, shared by the page (``/sales/``), the API (``/api/deals/``) and
every figure that links to the deals behind it (the board, the funnel, the reports link to
``/sales/?<these parameters>``).

Parameters: ``owner``, ``pipeline``, ``stage``, ``state`` (open/won/lost), ``sale_type``,
``product_line`` (a line of the deal's products), ``abc`` (the client's ABC class), ``refusal``,
``lost_at_stage``, ``created_from`` / ``created_to`` and ``closed_from`` / ``closed_to`` (dates,
both ends inclusive, in the site's time zone), ``close_month`` (``YYYY-MM`` of the expected
close), ``close_from`` / ``close_to`` (days of the expected close, both inclusive: the
dashboard's forecast window), ``segment`` (the client's target segment), ``reached_stage``
(a stage id: the deal's stage log has an entry into it — a deal that
skipped it did not reach it), ``client``, ``ageing`` (yellow/red), ``next_step`` (``none``:
no next step date)."""

import re
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from clients.models import Client, ProductLine, TargetSegment
from clients.pickers import CLIENTS, ROLE_EVERYONE, USERS
from crm.filters import DateFilter, FilterSet, style_widgets
from crm.models import User
from crm.pickers import RecordFilter
from sales.ageing import RED as AGEING_RED
from sales.ageing import YELLOW as AGEING_YELLOW
from sales.ageing import filter_ageing
from sales.funnel import NONE, reached_stage_q
from sales.models import (
    Deal,
    DealLine,
    Pipeline,
    RefusalCategory,
    SaleType,
    Stage,
    StageKind,
)
from sales.selectors import month_bounds
from segmentation.models import AbcClass

AGEING_CHOICES = [(AGEING_YELLOW, _("yellow: ageing")), (AGEING_RED, _("red: overdue in stage"))]
NEXT_STEP_CHOICES = [("none", _("no next step"))]


class MonthField(forms.CharField):
    """``YYYY-MM`` → the first day of that month; ``none``: no expected close."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if value.strip() == NONE:
            return NONE
        match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
        if not match or not 1900 <= int(match[1]) <= 2200 or not 1 <= int(match[2]) <= 12:
            raise ValidationError(_("Enter a month as YYYY-MM."))
        return date(int(match[1]), int(match[2]), 1)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.ModelChoiceFilter):
    """A reference filter applied by a method: an id in the API schema."""


@extend_schema_field(OpenApiTypes.STR)
class MonthFilter(django_filters.Filter):
    field_class = MonthField

    def filter(self, qs, value):
        if not value:
            return qs
        if value == NONE:
            return qs.filter(expected_close__isnull=True)
        start, end = month_bounds(value)
        return qs.filter(expected_close__gte=start, expected_close__lt=end)


def _stage_label(stage: Stage) -> str:
    return f"{stage.pipeline.name} · {stage.name}"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class DealFilterSet(FilterSet):
    owner = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_EVERYONE},
        label=_("Owner"),
        queryset=User.objects.all(),
        empty_label=_("anyone"),
    )
    pipeline = django_filters.ModelChoiceFilter(
        label=_("Pipeline"), queryset=Pipeline.objects.all(), empty_label=_("any pipeline")
    )
    stage = django_filters.ModelChoiceFilter(
        label=_("Stage"),
        queryset=Stage.objects.select_related("pipeline"),
        empty_label=_("any stage"),
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=StageKind.choices, empty_label=_("any state")
    )
    sale_type = django_filters.ChoiceFilter(
        label=_("Sale type"), choices=SaleType.choices, empty_label=_("any sale type")
    )
    product_line = IdFilter(
        label=_("Product line"),
        queryset=ProductLine.objects.all(),
        method="filter_product_line",
        empty_label=_("any product line"),
    )
    abc = django_filters.ChoiceFilter(
        label=_("Client class"),
        choices=[*AbcClass.choices, (NONE, _("no class"))],
        method="filter_abc",
        empty_label=_("any class"),
    )
    refusal = django_filters.ModelChoiceFilter(
        label=_("Refusal category"),
        queryset=RefusalCategory.objects.all(),
        empty_label=_("any refusal"),
    )
    lost_at_stage = django_filters.ModelChoiceFilter(
        label=_("Lost at stage"),
        queryset=Stage.objects.select_related("pipeline"),
        empty_label=_("any stage"),
    )
    created_from = DateFilter(label=_("Created from"), method="filter_created_from")
    created_to = DateFilter(label=_("Created to"), method="filter_created_to")
    closed_from = DateFilter(label=_("Closed from"), method="filter_closed_from")
    closed_to = DateFilter(label=_("Closed to"), method="filter_closed_to")
    close_month = MonthFilter(label=_("Expected close (month, YYYY-MM)"))
    close_from = DateFilter(
        label=_("Expected close from"), field_name="expected_close", lookup_expr="gte"
    )
    close_to = DateFilter(
        label=_("Expected close to"), field_name="expected_close", lookup_expr="lte"
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Target segment"),
        field_name="client__target_segment",
        queryset=TargetSegment.objects.all(),
        empty_label=_("any segment"),
    )
    reached_stage = IdFilter(
        label=_("Reached stage"),
        queryset=Stage.objects.select_related("pipeline"),
        method="filter_reached_stage",
    )
    client = RecordFilter(lookup=CLIENTS, label=_("Client"), queryset=Client.objects.all())
    ageing = django_filters.ChoiceFilter(
        label=_("Ageing"), choices=AGEING_CHOICES, method="filter_ageing", empty_label=_("any")
    )
    next_step = django_filters.ChoiceFilter(
        label=_("Next step"),
        choices=NEXT_STEP_CHOICES,
        method="filter_next_step",
        empty_label=_("any"),
    )

    class Meta:
        model = Deal
        fields: list[str] = []

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    @property
    def form(self):
        form = super().form
        for name in ("stage", "lost_at_stage", "reached_stage"):
            if name in form.fields:
                # several pipelines may have a stage of the same name
                form.fields[name].label_from_instance = _stage_label
        return style_widgets(form)

    def filter_product_line(self, queryset, name, value):
        if not value:
            return queryset
        lines = DealLine.objects.filter(deal=OuterRef("pk"), product__line=value)
        return queryset.filter(Exists(lines))

    def filter_abc(self, queryset, name, value):
        if value == NONE:
            return queryset.filter(
                Q(client__metrics__isnull=True) | Q(client__metrics__abc_class__isnull=True)
            )
        return queryset.filter(client__metrics__abc_class=value) if value else queryset

    def filter_reached_stage(self, queryset, name, value):
        # the funnel's rule: an entry into the stage, a later open stage or "won" (a skipped
        # stage counts as passed), so the list's count equals the funnel's figure
        return queryset.filter(reached_stage_q(value)) if value else queryset

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value)) if value else queryset

    def filter_created_to(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def filter_closed_from(self, queryset, name, value):
        return queryset.filter(closed_at__gte=_start_of(value)) if value else queryset

    def filter_closed_to(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(closed_at__lt=_start_of(value + timedelta(days=1)))

    def filter_ageing(self, queryset, name, value):
        if not value:
            return queryset
        # the board's rule (sales/ageing.py), so the list and the board agree
        today = timezone.localdate(self.now) if self.now else None
        return filter_ageing(queryset, value, today=today)

    def filter_next_step(self, queryset, name, value):
        if value == "none":
            return queryset.filter(next_step_date__isnull=True)
        return queryset
