from django.contrib import admin

from sales.models import (
    Deal,
    DealLine,
    Pipeline,
    RefusalCategory,
    SalesSettings,
    Stage,
    StageLog,
)


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["code", "name_ru", "name_en", "product_line", "is_active", "order"]
    inlines = [StageInline]


@admin.register(RefusalCategory)
class RefusalCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_ru", "name_en", "is_active", "order"]


class DealLineInline(admin.TabularInline):
    model = DealLine
    extra = 0
    readonly_fields = ["product", "quantity", "price", "amount"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    """Read-mostly: deals change through the pages and the API (the services check the moves
    and write the stage log); the admin shows them."""

    list_display = ["id", "title", "client", "owner", "pipeline", "stage", "state", "amount"]
    list_filter = ["state", "pipeline", "sale_type"]
    search_fields = ["title", "client__name"]
    raw_id_fields = ["client", "contact", "owner"]
    readonly_fields = [f.name for f in Deal._meta.fields]
    inlines = [DealLineInline]

    def has_add_permission(self, request):
        return False


@admin.register(StageLog)
class StageLogAdmin(admin.ModelAdmin):
    """Append-only: read-only here."""

    list_display = ["deal", "event", "from_stage", "to_stage", "at", "actor", "seconds_in_previous"]
    list_filter = ["event"]
    readonly_fields = [f.name for f in StageLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SalesSettings)
class SalesSettingsAdmin(admin.ModelAdmin):
    list_display = ["class_a_ageing_pct", "red_ageing_pct"]
