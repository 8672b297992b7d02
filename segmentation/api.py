"""REST API of the segmentation app (its router is included under /api/ by the URLconf).

- ``segmentation/metrics``: each client's classes and the figures behind them (scoped).
- ``segmentation/history``: class changes (scoped: account managers see their clients').
- ``segmentation/matrix``: the ABC×XYZ matrix the user may see.
- ``segmentation/runs``: the run log (managers); POST starts a run (managers, 202; 409 if one
  is already running).
"""

from django.utils.translation import gettext_lazy
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from crm.api_router import app_router
from segmentation import selectors, services
from segmentation.filters import ClassChangeFilter, MetricsFilter, RunFilter
from segmentation.models import ClassChange, ClientMetrics, SegmentationRun

router = app_router()


class IsManager(permissions.BasePermission):
    message = gettext_lazy("Only managers may do this.")

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.sees_everything)


class MetricsSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    rfm = serializers.CharField(read_only=True)

    class Meta:
        model = ClientMetrics
        fields = [
            "client",
            "client_name",
            "abc_class",
            "xyz_class",
            "lifecycle",
            "in_window",
            "turnover",
            "margin",
            "abc_rank",
            "share",
            "share_before",
            "months_history",
            "mean_monthly",
            "cv",
            "first_date",
            "last_date",
            "frequency",
            "r_score",
            "f_score",
            "m_score",
            "rfm",
        ]
        read_only_fields = fields


class MetricsViewSet(viewsets.ReadOnlyModelViewSet):
    """Metrics by client id (the row's primary key is its client)."""

    serializer_class = MetricsSerializer
    lookup_field = "client"
    filterset_class = MetricsFilter
    ordering_fields = ["abc_rank", "turnover", "cv", "client"]
    ordering = ["client"]

    def get_queryset(self):
        return selectors.metrics_for_user(self.request.user)


class ClassChangeSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = ClassChange
        fields = [
            "id",
            "client",
            "client_name",
            "run",
            "date",
            "abc_old",
            "abc_new",
            "xyz_old",
            "xyz_new",
            "lifecycle_old",
            "lifecycle_new",
            "abc_move",
        ]
        read_only_fields = fields


class HistoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClassChangeSerializer
    filterset_class = ClassChangeFilter
    ordering = ["-date", "-id"]

    def get_queryset(self):
        return selectors.history_for_user(self.request.user).order_by("-date", "-id")


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SegmentationRun
        fields = [
            "id",
            "status",
            "trigger",
            "requested_by",
            "as_of",
            "window_start",
            "window_end",
            "requested_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "clients_processed",
            "changes",
            "progress",
            "stage",
            "error",
            "parameters",
            "summary",
        ]
        read_only_fields = fields


class RunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The run log. POST (no body) starts a recompute in the background."""

    serializer_class = RunSerializer
    permission_classes = [IsManager]
    filterset_class = RunFilter

    def get_queryset(self):
        return SegmentationRun.objects.select_related("requested_by").order_by("-requested_at")

    @extend_schema(request=None, responses={202: RunSerializer, 409: None})
    def create(self, request, *args, **kwargs):
        try:
            run = services.run_start(actor=request.user, trigger=SegmentationRun.Trigger.API)
        except services.RunRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class MatrixCellSerializer(serializers.Serializer):
    abc = serializers.CharField()
    xyz = serializers.CharField(help_text='"none" = no XYZ class yet')
    clients = serializers.IntegerField()
    turnover = serializers.DecimalField(max_digits=20, decimal_places=2)
    share = serializers.FloatField(allow_null=True, help_text="null when the total is 0")


class MatrixSerializer(serializers.Serializer):
    run = serializers.IntegerField(allow_null=True)
    total_turnover = serializers.DecimalField(max_digits=20, decimal_places=2)
    cells = MatrixCellSerializer(many=True)
    lifecycle = serializers.DictField(child=serializers.IntegerField())


class SingleObjectSchema(AutoSchema):
    """A ``list`` action that answers one object (not a page of rows): spectacular would
    otherwise declare an array."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class MatrixViewSet(viewsets.ViewSet):
    """The ABC×XYZ matrix: clients and turnover share per cell ("none" = no XYZ yet)."""

    schema = SingleObjectSchema()

    @extend_schema(responses=MatrixSerializer)
    def list(self, request):
        data = selectors.matrix_for_user(request.user)
        cells = [
            {
                "abc": cell.abc,
                "xyz": cell.xyz,
                "clients": cell.clients,
                "turnover": f"{cell.cents / 100:.2f}",
                "share": cell.share,
            }
            for row in data["rows"]
            for cell in row
        ]
        return Response(
            {
                "run": data["run"].pk if data["run"] else None,
                "total_turnover": f"{data['total_cents'] / 100:.2f}",
                "cells": cells,
                "lifecycle": data["lifecycle"],
            }
        )


router.register("segmentation/metrics", MetricsViewSet, basename="segmentation-metrics")
router.register("segmentation/history", HistoryViewSet, basename="segmentation-history")
router.register("segmentation/runs", RunViewSet, basename="segmentation-runs")
router.register("segmentation/matrix", MatrixViewSet, basename="segmentation-matrix")

urlpatterns = router.urls
