from django.contrib import admin

from feedback.models import Complaint, Notice, SlaBreach, SlaSettings, Theme


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_ru", "order", "is_active")
    list_editable = ("order", "is_active")


@admin.register(SlaSettings)
class SlaSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "work_start", "work_end", "time_zone", "updated_at")

    def has_add_permission(self, request):
        return not SlaSettings.objects.exists()


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("id", "client", "theme", "status", "priority", "responsible", "registered_at")
    list_filter = ("status", "priority", "theme")
    raw_id_fields = ("client", "contact", "served_by", "responsible", "registered_by")
    readonly_fields = ("status",)
    date_hierarchy = "registered_at"


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    list_display = ("complaint", "kind", "due_at", "detected_at", "escalated_to", "emailed_at")
    list_filter = ("kind",)
    raw_id_fields = ("complaint", "responsible", "escalated_to")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "complaint", "created_at", "read_at")
    raw_id_fields = ("recipient", "complaint", "breach")
