"""The funnel page (``/sales/funnel/``): conversion, win rate, time in stage, refusals and the
forecast of the deals the user sees (``sales/funnel.py`` has the rules). Every figure links to
the deal list with the parameters of the deals behind it."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sales import funnel as selectors
from sales.funnel_forms import FunnelForm


def forecast_label(row: selectors.ForecastRow) -> str:
    if row.month is not None:
        return date_format(row.month, "YEAR_MONTH_FORMAT")
    return {
        selectors.OVERDUE: _("earlier (overdue)"),
        selectors.LATER: pgettext("funnel", "later"),
        selectors.NONE: pgettext("funnel", "no date"),
    }.get(row.key, row.key)


def chart_data(data: selectors.Funnel, refusals: selectors.Refusals, forecast) -> dict:
    stage_table = refusals.by_stage
    return {
        "stages": [row.stage.name for row in data.stages] + [pgettext("funnel", "Won")],
        "reached": [row.reached for row in data.stages] + [data.won],
        "days": [float(row.avg_days) if row.avg_days is not None else None for row in data.stages],
        "refusal_stages": [label for _key, label in stage_table.rows],
        "refusals": [
            {
                "label": category.name,
                "data": [
                    (cell.deals if (cell := stage_table.cells.get((key, category.pk))) else 0)
                    for key, _label in stage_table.rows
                ],
            }
            for category in stage_table.categories
        ],
        "months": [forecast_label(row) for row in forecast.rows],
        "amount": [float(row.amount) for row in forecast.rows],
        "weighted": [float(row.weighted) for row in forecast.rows],
    }


@login_required
def funnel_page(request):
    today = timezone.localdate()
    form = FunnelForm(request.GET or None, user=request.user, today=today)
    filters = form.filters()
    context = {"form": form, "filters": filters}
    if filters is not None:
        cached = selectors.cached_report(request.user, filters, today=today)
        data, refusals, forecast = cached.funnel, cached.refusals, cached.forecast
        for row in forecast.rows:
            row.label = forecast_label(row)
        context.update(
            f=data,
            refusals=refusals,
            forecast=forecast,
            chart=chart_data(data, refusals, forecast),
            refusal_tables=[
                (refusals.by_stage, "stage", _("Refusals: stage × category"), _("Lost at stage")),
                (refusals.by_abc, "abc", _("Refusals: ABC class × category"), _("ABC class")),
            ],
        )
    return render(request, "sales/funnel.html", context)
