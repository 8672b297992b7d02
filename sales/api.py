"""REST API of the sales app: its viewsets will register on an app router (crm.api_router)."""

urlpatterns: list = []


# --- funnel (owner: funnel) ----------------------------------------------------------------------
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from drf_spectacular.types import OpenApiTypes  # noqa: E402
from drf_spectacular.utils import OpenApiParameter, extend_schema  # noqa: E402
from rest_framework import serializers  # noqa: E402
from rest_framework.exceptions import ValidationError  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from sales import funnel as funnel_selectors  # noqa: E402
from sales.funnel_forms import FunnelForm  # noqa: E402


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
