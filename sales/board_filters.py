"""Filters of the pipeline board: owner, product line, the client's ABC class, ageing. The
parameter names are those of the deal list's (``/sales/?owner=…&product_line=…&abc=…&ageing=…``),
so a board view and a list view of the same deals share their query string."""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from clients.models import ProductLine
from clients.pickers import ROLE_EVERYONE, USERS
from crm.filters import FilterSet, style_widgets
from crm.models import User
from crm.pickers import RecordFilter
from sales import ageing
from sales.models import Deal, DealLine
from segmentation.models import AbcClass, ClientMetrics

AGEING_CHOICES = [
    (ageing.ANY, _("yellow or red")),
    (ageing.YELLOW, _("yellow")),
    (ageing.RED, _("red")),
]


class BoardFilter(FilterSet):
    owner = RecordFilter(
        lookup=USERS,
        params={"role": ROLE_EVERYONE},
        label=_("Owner"),
        queryset=User.objects.all(),
        empty_label=_("anyone"),
    )
    product_line = django_filters.ModelChoiceFilter(
        label=_("Product line"),
        queryset=ProductLine.objects.all(),
        empty_label=_("any line"),
        method="of_product_line",
    )
    abc = django_filters.ChoiceFilter(
        label=_("ABC class"),
        choices=AbcClass.choices,
        empty_label=_("any class"),
        method="of_class",
    )
    ageing = django_filters.ChoiceFilter(
        label=_("Ageing"),
        choices=AGEING_CHOICES,
        empty_label=_("any"),
        method="of_ageing",
    )

    class Meta:
        model = Deal
        fields: list[str] = []

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    @property
    def form(self):
        return style_widgets(super().form)

    def of_product_line(self, queryset, name, value):
        if not value:
            return queryset
        lines = DealLine.objects.filter(deal=OuterRef("pk"), product__line=value)
        return queryset.filter(Exists(lines))

    def of_class(self, queryset, name, value):
        """The deals of the clients of that class: a subquery of the class's clients (one
        index range of the class rows), not a join of every deal to its client and their
        classes (docs/benchmarks.md, "Sales pipeline: board and moves")."""
        if not value:
            return queryset
        return queryset.filter(
            client_id__in=ClientMetrics.objects.filter(abc_class=value).values("client_id")
        )

    def of_ageing(self, queryset, name, value):
        return ageing.filter_ageing(queryset, value, today=self.today)
