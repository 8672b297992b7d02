from django.contrib import admin

from segmentation.models import ClassChange, ClientMetrics, SegmentationRun, SegmentationSettings


@admin.register(SegmentationSettings)
class SegmentationSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "abc_basis", "abc_a_pct", "abc_b_pct", "xyz_x_pct", "xyz_y_pct")

    def has_add_permission(self, request):
        return not SegmentationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SegmentationRun)
class SegmentationRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "trigger",
        "as_of",
        "started_at",
        "duration_seconds",
        "clients_processed",
        "changes",
    )
    list_filter = ("status", "trigger")
    readonly_fields = [f.name for f in SegmentationRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ClassChange)
class ClassChangeAdmin(admin.ModelAdmin):
    list_display = (
        "date",
        "client",
        "abc_old",
        "abc_new",
        "xyz_old",
        "xyz_new",
        "lifecycle_old",
        "lifecycle_new",
        "run",
    )
    list_filter = ("abc_move", "lifecycle_new")
    raw_id_fields = ("client", "run")
    list_select_related = ("client", "run")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ClientMetrics)
class ClientMetricsAdmin(admin.ModelAdmin):
    list_display = (
        "client",
        "abc_class",
        "xyz_class",
        "lifecycle",
        "turnover",
        "abc_rank",
        "share_before",
        "cv",
        "r_score",
        "f_score",
        "m_score",
    )
    list_filter = ("abc_class", "xyz_class", "lifecycle")
    raw_id_fields = ("client",)
    list_select_related = ("client",)

    def has_change_permission(self, request, obj=None):
        return False
