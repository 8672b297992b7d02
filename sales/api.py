"""REST API of the sales pipeline.

- ``/api/pipelines/`` with their stages, ``/api/stages/``, ``/api/refusal-categories/``: every
  signed-in user reads, managers write (through ``sales.configuration``).
- ``/api/deals/``: list (filters = ``sales.filters.DealFilterSet``, the page's parameters),
  create, update, retrieve; ``POST /api/deals/{id}/move|win|lose|reopen/``. Writes call
  ``sales.services``. Each step and an update take ``version`` — the deal's version the caller
  saw: a stale one is refused with **409 Conflict** and the service's message (nothing saved);
  any other broken rule (a stage of another pipeline, a loss without a category, a closed deal)
  is a **400** with the message.
- ``/api/deal-stage-log/``: the stage log, read-only (``?deal=<id>``).

Scope: a manager sees every deal; an account manager the deals of their own clients. Another
account manager's deal is a 404 everywhere, and its id is refused in filters and references."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.models import Client, ContactPerson, Product
from crm.access import scope_for_user
from crm.api_fields import ScopedPrimaryKeyRelatedField
from crm.api_permissions import ManagersWrite
from crm.api_router import app_router
from crm.api_views import ServiceSave
from crm.models import User
from sales import configuration, product_board, reports, services
from sales import funnel as funnel_selectors
from sales.filters import DealFilterSet
from sales.funnel_forms import FunnelForm
from sales.models import (
    Deal,
    DealLine,
    Pipeline,
    RefusalCategory,
    SaleType,
    Stage,
    StageLog,
)
from sales.report_filters import BoardFilter, ReportForm
from sales.selectors import deals_for

router = app_router()


# --- pipelines, stages, refusal categories -----------------------------------------------------
class StageSerializer(serializers.ModelSerializer):
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())

    class Meta:
        model = Stage
        fields = ["id", "pipeline", *configuration.STAGE_FIELDS]


class PipelineSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", *configuration.PIPELINE_FIELDS, "stages"]


class PipelineViewSet(
    ServiceSave,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Pipelines with their stages (stages are written at ``/api/stages/``). A new pipeline
    needs its stages: create it inactive, add the stages, then activate it."""

    serializer_class = PipelineSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    queryset = Pipeline.objects.prefetch_related("stages").order_by("order", "id")
    save_service = staticmethod(configuration.pipeline_save)
    instance_arg = "pipeline"


class StageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Stages of the pipelines (``?pipeline=<id>``). Written by managers; the pipeline's rules
    (one open, one won, one lost stage; a stage with deals keeps its kind) are checked for an
    active pipeline."""

    serializer_class = StageSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    queryset = Stage.objects.order_by("pipeline", "order", "id")
    filterset_fields = ["pipeline", "kind"]

    def _save(self, serializer, stage=None):
        data = dict(serializer.validated_data)
        pipeline = data.pop("pipeline", None) or stage.pipeline
        if stage is not None and pipeline.pk != stage.pipeline_id:
            raise serializers.ValidationError(
                {"pipeline": [_("A stage cannot move to another pipeline.")]}
            )
        row = {**data, "id": stage.pk} if stage is not None else data
        configuration.pipeline_save(
            actor=self.request.user,
            data={},
            stages=[row],
            pipeline=pipeline,
        )
        saved = (
            Stage.objects.get(pk=stage.pk)
            if stage is not None
            else pipeline.stages.order_by("-id").first()
        )
        serializer.instance = saved

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, Stage.objects.get(pk=serializer.instance.pk))


class RefusalCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = RefusalCategory
        fields = ["id", *configuration.REFUSAL_FIELDS]


class RefusalCategoryViewSet(
    ServiceSave,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = RefusalCategorySerializer
    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    queryset = RefusalCategory.objects.order_by("order", "id")
    save_service = staticmethod(configuration.refusal_save)
    instance_arg = "refusal"


# --- deals -------------------------------------------------------------------------------------
class DealLineSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.filter(is_active=True))
    price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        help_text="Empty: the product's list price.",
    )
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))

    class Meta:
        model = DealLine
        fields = ["product", "quantity", "price", "amount"]
        read_only_fields = ["amount"]


DEAL_READ_ONLY = [
    "pipeline_stage_name",
    "state",
    "stage_entered_at",
    "amount",
    "sale_type_derived",
    "effective_probability",
    "closed_at",
    "lost_at_stage",
    "refusal",
    "refusal_note",
    "version",
    "created_at",
    "updated_at",
]


class DealSerializer(serializers.ModelSerializer):
    client = ScopedPrimaryKeyRelatedField(queryset=Client.objects.all())
    contact = ScopedPrimaryKeyRelatedField(
        queryset=ContactPerson.objects.all(), required=False, allow_null=True
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False
    )
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.filter(is_active=True))
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(),
        required=False,
        help_text="On create only: the starting open stage (default: the pipeline's first). "
        "Afterwards the stage changes only through the move / win / lose / reopen actions.",
    )
    sale_type = serializers.ChoiceField(
        choices=SaleType.choices,
        required=False,
        help_text="Empty on create: derived from the client's settlements and the products.",
    )
    lines = DealLineSerializer(many=True, required=False)
    pipeline_stage_name = serializers.CharField(source="stage.name", read_only=True)
    effective_probability = serializers.IntegerField(read_only=True)
    expected_version = serializers.IntegerField(
        write_only=True,
        required=False,
        help_text="On update: the deal's version you saw; a stale one is refused with 409.",
    )

    class Meta:
        model = Deal
        fields = [
            "id",
            "client",
            "pipeline",
            "stage",
            "lines",
            *services.EDITABLE_FIELDS,
            *DEAL_READ_ONLY,
            "expected_version",
        ]
        read_only_fields = DEAL_READ_ONLY

    def validate(self, attrs):
        if self.instance is not None:
            for name in ("client", "pipeline", "stage"):
                value = attrs.get(name)
                if value is not None and value.pk != getattr(self.instance, f"{name}_id"):
                    raise serializers.ValidationError(
                        {
                            name: [
                                _(
                                    "Cannot be changed here: the stage changes through the "
                                    "move, win, lose and reopen actions."
                                )
                            ]
                        }
                    )
        return attrs


def _lines(rows) -> list[services.LineInput]:
    return [
        services.LineInput(product=r["product"], quantity=r["quantity"], price=r.get("price"))
        for r in rows
    ]


class DealStepSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        help_text="The deal's version you saw: a stale one is refused with 409.",
    )


class DealMoveSerializer(DealStepSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all())


class DealLoseSerializer(DealStepSerializer):
    refusal = serializers.PrimaryKeyRelatedField(
        queryset=RefusalCategory.objects.all(), allow_null=True
    )
    note = serializers.CharField(max_length=2000, allow_blank=True)


class DealReopenSerializer(DealStepSerializer):
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(), required=False, allow_null=True
    )


class DealConflictSerializer(serializers.Serializer):
    detail = serializers.ListField(child=serializers.CharField())


STEP_RESPONSES = {
    200: DealSerializer,
    400: OpenApiResponse(description="A rule of the pipeline refused the step (the message)."),
    409: OpenApiResponse(
        response=DealConflictSerializer,
        description="Stale version: someone changed the deal since you read it; nothing saved.",
    ),
}


def _is_stale(exc: DjangoValidationError) -> bool:
    return not hasattr(exc, "error_dict") and any(e.code == services.STALE for e in exc.error_list)


class DealViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Deals the user may see. Filters: the deal list's (``sales.filters.DealFilterSet``)."""

    serializer_class = DealSerializer
    filterset_class = DealFilterSet
    ordering_fields = ["created_at", "amount", "expected_close", "id"]
    search_fields = ["title"]

    def get_queryset(self):
        return deals_for(self.request.user).prefetch_related("lines").order_by("-created_at", "-id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("expected_version", None)
        kwargs = {
            "client": data.pop("client"),
            "pipeline": data.pop("pipeline"),
            "stage": data.pop("stage", None),
            "contact": data.pop("contact", None),
            "owner": data.pop("owner", None),
            "lines": _lines(data.pop("lines", [])),
        }
        serializer.instance = services.deal_create(actor=self.request.user, data=data, **kwargs)

    @extend_schema(responses=STEP_RESPONSES)
    def update(self, request, *args, **kwargs):
        return self._conflict_as_409(
            lambda: super(DealViewSet, self).update(request, *args, **kwargs)
        )

    @extend_schema(responses=STEP_RESPONSES)
    def partial_update(self, request, *args, **kwargs):
        return self._conflict_as_409(
            lambda: super(DealViewSet, self).partial_update(request, *args, **kwargs)
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("expected_version", None)
        for name in ("client", "pipeline", "stage"):
            data.pop(name, None)
        lines = data.pop("lines", None)
        serializer.instance = services.deal_update(
            actor=self.request.user,
            deal=serializer.instance,
            data=data,
            lines=None if lines is None else _lines(lines),
            expected_version=version,
        )

    def _conflict_as_409(self, call):
        try:
            return call()
        except DjangoValidationError as exc:
            if _is_stale(exc):
                return Response({"detail": exc.messages}, status=status.HTTP_409_CONFLICT)
            raise

    def _step(self, request, serializer_class, run):
        deal = self.get_object()
        step = serializer_class(data=request.data)
        step.is_valid(raise_exception=True)
        data = dict(step.validated_data)
        version = data.pop("version", None)
        deal = self._conflict_as_409(lambda: run(deal, data, version))
        if isinstance(deal, Response):
            return deal
        deal = self.get_queryset().get(pk=deal.pk)
        return Response(self.get_serializer(deal).data, status=status.HTTP_200_OK)

    @extend_schema(request=DealMoveSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move an open deal to another stage of its pipeline (a "won" stage wins it)."""
        return self._step(
            request,
            DealMoveSerializer,
            lambda deal, data, version: services.deal_move(
                actor=request.user, deal=deal, stage=data["stage"], expected_version=version
            ),
        )

    @extend_schema(request=DealStepSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        """Close the deal as won (fires the surveys' "deal won" trigger)."""
        return self._step(
            request,
            DealStepSerializer,
            lambda deal, data, version: services.deal_win(
                actor=request.user, deal=deal, expected_version=version
            ),
        )

    @extend_schema(request=DealLoseSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        """Close the deal as lost: a refusal category and a note are required."""
        return self._step(
            request,
            DealLoseSerializer,
            lambda deal, data, version: services.deal_lose(
                actor=request.user,
                deal=deal,
                refusal=data.get("refusal"),
                note=data.get("note", ""),
                expected_version=version,
            ),
        )

    @extend_schema(request=DealReopenSerializer, responses=STEP_RESPONSES)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Reopen a won or lost deal (default stage: the one it was lost at)."""
        return self._step(
            request,
            DealReopenSerializer,
            lambda deal, data, version: services.deal_reopen(
                actor=request.user, deal=deal, stage=data.get("stage"), expected_version=version
            ),
        )


class StageLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = StageLog
        fields = [
            "id",
            "deal",
            "event",
            "from_stage",
            "to_stage",
            "at",
            "actor",
            "seconds_in_previous",
            "refusal",
            "note",
        ]
        read_only_fields = fields


class StageLogViewSet(viewsets.ReadOnlyModelViewSet):
    """The stage log of the deals the user may see (``?deal=<id>``): append-only."""

    serializer_class = StageLogSerializer
    filterset_fields = ["deal", "event", "to_stage"]

    def get_queryset(self):
        return scope_for_user(StageLog.objects.all(), self.request.user).order_by("at", "id")


router.register("pipelines", PipelineViewSet, basename="pipeline")
router.register("stages", StageViewSet, basename="stage")
router.register("refusal-categories", RefusalCategoryViewSet, basename="refusal-category")
router.register("deals", DealViewSet, basename="deal")
router.register("deal-stage-log", StageLogViewSet, basename="deal-stage-log")

urlpatterns = router.urls


# --- funnel (owner: funnel) ----------------------------------------------------------------------


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.IntegerField(source="stage.pk")
    name = serializers.CharField(source="stage.name")
    reached = serializers.IntegerField(help_text="Entered this stage, a later one or won.")
    conversion = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="% of the previous stage."
    )
    of_cohort = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    stays = serializers.IntegerField(help_text="Ended stays behind avg_days.")
    avg_days = serializers.DecimalField(max_digits=9, decimal_places=1, allow_null=True)
    params = serializers.DictField(child=serializers.CharField(), help_text="Deal list filters.")


class FunnelSerializer(serializers.Serializer):
    cohort = serializers.IntegerField()
    open = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    won_of_cohort = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    won_conversion = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    stages = FunnelStageSerializer(many=True)
    params = serializers.DictField(child=serializers.CharField())


class RefusalCellSerializer(serializers.Serializer):
    row = serializers.CharField(help_text="Stage id, or ABC class ('none': no class).")
    refusal = serializers.IntegerField()
    deals = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    params = serializers.DictField(child=serializers.CharField())


class ForecastRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="'YYYY-MM', 'overdue', 'later' or 'none' (no date).")
    deals = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=16, decimal_places=2)
    params = serializers.DictField(child=serializers.CharField(), allow_null=True)


class FunnelDataSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Exclusive: the period is [start, end).")
    pipeline = serializers.IntegerField()
    funnel = FunnelSerializer()
    refusals_by_stage = RefusalCellSerializer(many=True)
    refusals_by_abc = RefusalCellSerializer(many=True)
    forecast = ForecastRowSerializer(many=True)


def _cells(table) -> list[dict]:
    return [
        {"row": key, "refusal": refusal, **vars(cell)}
        for (key, refusal), cell in table.cells.items()
    ]


class SalesFunnelView(APIView):
    """The figures of the funnel page (/sales/funnel/), scoped like it."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                description="'qYYYY-N' (default: this quarter), 'mYYYY-MM', 'yYYYY' or 'custom' "
                "with date_from and date_to (inclusive)",
            ),
            OpenApiParameter("date_from", OpenApiTypes.DATE),
            OpenApiParameter("date_to", OpenApiTypes.DATE),
            OpenApiParameter("pipeline", OpenApiTypes.INT, description="default: the first"),
            OpenApiParameter("owner", OpenApiTypes.INT, description="managers only"),
            OpenApiParameter("product_line", OpenApiTypes.INT),
            OpenApiParameter("abc", OpenApiTypes.STR, description="A, B, C or none"),
        ],
        responses=FunnelDataSerializer,
    )
    def get(self, request):
        today = timezone.localdate()
        form = FunnelForm(request.query_params or None, user=request.user, today=today)
        if form.is_bound and not form.is_valid():
            raise ValidationError(form.errors)
        filters = form.filters()
        if filters is None:
            raise ValidationError({"pipeline": ["No pipeline yet."]})
        cached = funnel_selectors.cached_report(request.user, filters, today=today)
        data, refusals, forecast = cached.funnel, cached.refusals, cached.forecast
        body = {
            "period_start": filters.period.start,
            "period_end": filters.period.end,
            "pipeline": filters.pipeline.pk,
            "funnel": data,
            "refusals_by_stage": _cells(refusals.by_stage),
            "refusals_by_abc": _cells(refusals.by_abc),
            "forecast": [vars(row) for row in forecast.rows],
        }
        return Response(FunnelDataSerializer(body).data)


urlpatterns += [path("sales-funnel/", SalesFunnelView.as_view(), name="sales-funnel")]


# --- reports (client × product board, period report) ---------------------------------------


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
        try:
            manager_id = reports.parse_row(request.query_params.get("row", ""))
        except ValueError:
            raise ValidationError({"row": ["an account manager id, 'none' or empty"]}) from None
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
