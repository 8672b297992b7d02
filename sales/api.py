"""REST API of the sales app: its viewsets will register on an app router (crm.api_router)."""

urlpatterns: list = []

# --- reports (client × product board, period report) ---------------------------------------
from django.urls import path  # noqa: E402
from drf_spectacular.types import OpenApiTypes  # noqa: E402
from drf_spectacular.utils import OpenApiParameter, extend_schema  # noqa: E402
from rest_framework.exceptions import NotFound, ValidationError  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from sales import product_board, reports  # noqa: E402
from sales.report_filters import BoardFilter, ReportForm  # noqa: E402


def _own_only(request) -> None:
    user = request.user
    if not user.sees_everything and request.query_params.get("am") not in (None, "", str(user.pk)):
        raise NotFound()


class ProductBoardView(APIView):
    """A page of the client × product board (50 clients), scoped like the page."""

    @extend_schema(
        parameters=[
            OpenApiParameter("am", OpenApiTypes.INT, description="managers: one account manager"),
            OpenApiParameter("segment", OpenApiTypes.INT),
            OpenApiParameter("abc", OpenApiTypes.STR, description="A, B, C or none"),
            OpenApiParameter("lines", OpenApiTypes.BOOL, description="columns: product lines"),
            OpenApiParameter("page", OpenApiTypes.INT),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        _own_only(request)
        filterset = BoardFilter(
            request.query_params or None,
            queryset=product_board.board_base(request.user),
            user=request.user,
        )
        if filterset.is_bound and not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page, groups = product_board.board_page(
            filterset.qs,
            number=request.query_params.get("page"),
            by_lines=filterset.by_lines,
            tally=filterset.tally,
        )
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "columns_are": "lines" if filterset.by_lines else "products",
                "segments": [
                    {
                        "id": g.segment.pk,
                        "name": g.segment.name,
                        "columns": [{"id": c.id, "name": c.name} for c in g.columns],
                        "clients": [
                            {
                                "id": r.client.pk,
                                "name": r.client.name,
                                "abc": r.abc,
                                "cells": [
                                    {
                                        "state": cell.state,
                                        "turnover_12m": cell.turnover,
                                        "deal": cell.deal_id,
                                        "stage": cell.stage,
                                        "next_step": cell.next_step,
                                        "refusal": cell.refusal,
                                        "refused_on": cell.refused_on,
                                    }
                                    for cell in r.cells
                                ],
                            }
                            for r in g.rows
                        ],
                    }
                    for g in groups
                ],
            }
        )


def _report_params(request):
    _own_only(request)
    form = ReportForm(request.query_params or None, user=request.user)
    if form.is_bound and not form.is_valid():
        raise ValidationError(form.errors)
    period = form.report_period()
    return period, reports.cached_facts(
        request.user, period, account_manager=form.account_manager()
    )


REPORT_PARAMETERS = [
    OpenApiParameter(
        "period", OpenApiTypes.STR, description="month, quarter (default), year, custom"
    ),
    OpenApiParameter("on", OpenApiTypes.DATE, description="a day of the month/quarter/year"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="custom: first day"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="custom: last day (included)"),
    OpenApiParameter("am", OpenApiTypes.INT, description="managers: one account manager"),
]


class PeriodReportView(APIView):
    """The period report per account manager with its totals and definitions."""

    @extend_schema(parameters=REPORT_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        period, facts = _report_params(request)
        rows, total = reports.report_rows(request.user, facts)

        def as_dict(row):
            return {
                "account_manager": row.manager_id if row.manager_id > 0 else None,
                "name": str(row.manager) if row.manager else "",
                "counts": row.counts,
                "sums": row.sums,
                "conversion": row.conversion,
            }

        return Response(
            {
                "period_start": period.start,
                "period_end": period.end,
                "rows": [as_dict(r) for r in rows],
                "total": {
                    k: v for k, v in as_dict(total).items() if k in ("counts", "sums", "conversion")
                },
                "definitions": {m: str(reports.DEFINITIONS[m]) for m in reports.METRICS},
            }
        )


class PeriodReportClientsView(APIView):
    """The clients behind one figure: ``metric`` and ``row`` (account manager id, ``none``,
    or empty for the total)."""

    @extend_schema(
        parameters=[
            *REPORT_PARAMETERS,
            OpenApiParameter("metric", OpenApiTypes.STR, required=True),
            OpenApiParameter("row", OpenApiTypes.STR),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        metric = request.query_params.get("metric", "")
        if metric not in reports.METRICS:
            raise ValidationError({"metric": [f"one of {', '.join(reports.METRICS)}"]})
        row = request.query_params.get("row", "")
        if row == "none":
            manager_id = reports.NO_MANAGER
        elif row == "":
            manager_id = None
        elif row.isdigit():
            manager_id = int(row)
        else:
            raise ValidationError({"row": ["an account manager id, 'none' or empty"]})
        if not request.user.sees_everything and manager_id not in (None, request.user.pk):
            raise NotFound()
        _period, facts = _report_params(request)
        members = reports.detail_ids(facts, metric, manager_id)
        return Response(
            {
                "count": len(members),
                "clients": [{"id": pk, "sum": amount} for pk, amount in sorted(members.items())],
            }
        )


urlpatterns += [
    path("sales/products/", ProductBoardView.as_view(), name="sales-products"),
    path("sales/report/", PeriodReportView.as_view(), name="sales-report"),
    path("sales/report/clients/", PeriodReportClientsView.as_view(), name="sales-report-clients"),
]
