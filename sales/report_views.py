"""Pages of the sales reports: the client × product board and the period report per account
manager (with the clients behind each figure). Read-only; XLSX exports of each."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clients.imports.exports import xlsx_file
from clients.models import Client
from crm.filters import filter_errors, filtered
from sales import product_board, reports
from sales.report_filters import BoardFilter, ReportForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DETAIL_PAGE_SIZE = 50


def _xlsx(rows, name: str) -> FileResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        xlsx_file(rows, title=name),
        as_attachment=True,
        filename=f"{name}-{stamp}.xlsx",
        content_type=XLSX,
    )


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return query.urlencode()


@login_required
@require_GET
def product_board_view(request):
    user = request.user
    if not user.sees_everything and request.GET.get("am") not in (None, "", str(user.pk)):
        raise Http404(_("Not found."))  # another account manager's clients: as for an outsider
    filterset = BoardFilter(request.GET or None, queryset=product_board.board_base(user), user=user)
    if request.GET.get("format") == "xlsx":
        if filter_errors(filterset):
            return HttpResponse(
                _("The filters are not valid."), status=400, content_type="text/plain"
            )
        rows = product_board.export_rows(filterset.qs, by_lines=filterset.by_lines)
        return _xlsx(rows, "client-products")
    page, groups = product_board.board_page(
        filtered(filterset),
        number=request.GET.get("page"),
        by_lines=filterset.by_lines,
        tally=filterset.tally,
    )
    return render(
        request,
        "sales/products.html",
        {
            "filter": filterset,
            "filter_errors": filter_errors(filterset),
            "page": page,
            "groups": groups,
            "by_lines": filterset.by_lines,
            "query": _query(request),
            "export_limit": product_board.EXPORT_LIMIT,
            "tab": "products",
        },
    )


def _report_form(request) -> ReportForm:
    user = request.user
    if not user.sees_everything and request.GET.get("am") not in (None, "", str(user.pk)):
        raise Http404(_("Not found."))
    return ReportForm(request.GET or None, user=user)


def _report_rows_xlsx(rows, total, period):
    yield [_("Period"), period.start, period.last_day]
    header = [_("Account manager")]
    for metric in reports.METRICS:
        header.append(str(reports.LABELS[metric]))
        if metric in reports.WITH_SUM:
            header.append(_("%(figure)s, sum") % {"figure": reports.LABELS[metric]})
    header.append(_("Conversion, %"))
    yield header
    for row in [*rows, total]:
        if row is total:
            name = _("Total")
        else:
            name = str(row.manager) if row.manager else _("No account manager")
        values = [name]
        for metric in reports.METRICS:
            values.append(row.counts[metric])
            if metric in reports.WITH_SUM:
                values.append(row.sums[metric])
        values.append(None if row.conversion is None else float(row.conversion * 100))
        yield values
    yield []
    for metric in reports.METRICS:
        yield [str(reports.LABELS[metric]), str(reports.DEFINITIONS[metric])]


def _table_row(row, is_total: bool) -> dict:
    if is_total:
        name, param = _("Total"), ""
    elif row.manager_id == reports.NO_MANAGER:
        name, param = _("No account manager"), "none"
    else:
        name, param = str(row.manager), str(row.manager_id)
    cells = [
        {
            "metric": m,
            "count": row.counts[m],
            "sum": row.sums.get(m),
            "with_sum": m in reports.WITH_SUM,
        }
        for m in reports.METRICS
    ]
    return {
        "name": name,
        "param": param,
        "is_total": is_total,
        "cells": cells,
        "conversion": row.conversion,
    }


@login_required
@require_GET
def period_report_view(request):
    form = _report_form(request)
    period = form.report_period()
    chosen = form.account_manager()
    facts = reports.cached_facts(request.user, period, account_manager=chosen)
    rows, total = reports.report_rows(request.user, facts)
    if chosen is not None:  # one account manager's figures: their row (and the totals)
        rows = [row for row in rows if row.manager_id == chosen.pk]
    if request.GET.get("format") == "xlsx":
        if form.is_bound and not form.is_valid():
            return HttpResponse(
                _("The period is not valid."), status=400, content_type="text/plain"
            )
        return _xlsx(_report_rows_xlsx(rows, total, period), "sales-report")
    return render(
        request,
        "sales/report.html",
        {
            "form": form,
            "filter_errors": form.errors if form.is_bound and not form.is_valid() else {},
            "period": period,
            "table": [_table_row(row, row is total) for row in [*rows, total]],
            "metrics": [(m, reports.LABELS[m], m in reports.WITH_SUM) for m in reports.METRICS],
            "definitions": [(reports.LABELS[m], reports.DEFINITIONS[m]) for m in reports.METRICS],
            "query": _query(request),
            "tab": "report",
        },
    )


def _detail_clients(members: dict, *, with_sum: bool) -> list[tuple[int, str]]:
    """(id, name) of the clients behind a figure: a figure with a sum largest first (then by
    id: its page reads only the names it shows), the others by name (read in chunks of ids)."""
    if with_sum:
        ordered = sorted(members, key=lambda pk: (-(members[pk] or 0), pk))
        return [(pk, "") for pk in ordered]
    ids = list(members)
    out: list[tuple[int, str]] = []
    for i in range(0, len(ids), 5000):
        out += Client.objects.filter(pk__in=ids[i : i + 5000]).values_list("pk", "name")
    out.sort(key=lambda r: (r[1].lower(), r[0]))
    return out


def _with_names(rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
    missing = [pk for pk, name in rows if not name]
    if not missing:
        return rows
    names = dict(Client.objects.filter(pk__in=missing).values_list("pk", "name"))
    return [(pk, name or names.get(pk, "")) for pk, name in rows]


@login_required
@require_GET
def report_detail_view(request):
    """The clients behind one figure of the report: ``metric`` and ``row`` (an account manager's
    id, ``none`` for clients without one, empty for the total) with the report's period."""
    user = request.user
    metric = request.GET.get("metric", "")
    if metric not in reports.METRICS:
        return HttpResponse(_("Unknown figure."), status=400, content_type="text/plain")
    try:
        manager_id = reports.parse_row(request.GET.get("row", ""))
    except ValueError:
        return HttpResponse(_("Unknown row."), status=400, content_type="text/plain")
    if not user.sees_everything and manager_id not in (None, user.pk):
        raise Http404(_("Not found."))
    form = _report_form(request)
    period = form.report_period()
    facts = reports.cached_facts(user, period, account_manager=form.account_manager())
    members = reports.detail_ids(facts, metric, manager_id)
    with_sum = metric in reports.WITH_SUM
    clients = _detail_clients(members, with_sum=with_sum)
    if request.GET.get("format") == "xlsx":
        rows = [[_("Client"), _("Sum") if with_sum else ""]]
        for i in range(0, len(clients), 5000):
            chunk = _with_names(clients[i : i + 5000])
            rows += [[name, members[pk] if with_sum else None] for pk, name in chunk]
        return _xlsx(rows, f"sales-report-{metric}")
    page = Paginator(clients, DETAIL_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [
        {"id": pk, "name": name, "amount": members[pk]}
        for pk, name in _with_names(list(page.object_list))
    ]
    query = request.GET.copy()
    query.pop("page", None)
    back = request.GET.copy()
    for key in ("page", "metric", "row", "format"):
        back.pop(key, None)
    return render(
        request,
        "sales/report_detail.html",
        {
            "period": period,
            "metric_label": reports.LABELS[metric],
            "definition": reports.DEFINITIONS[metric],
            "with_sum": with_sum,
            "page": page,
            "total_sum": sum((v or Decimal(0) for v in members.values()), Decimal(0)),
            "count": len(members),
            "query": query.urlencode(),
            "back": back.urlencode(),
            "tab": "report",
        },
    )
