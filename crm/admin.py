from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from crm.models import AuditEntry, CalendarDay, OutboxMessage, User
from crm.services import audit_record, diff, snapshot, user_password_changed


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "get_full_name", "email", "role", "head", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Role"), {"fields": ("role", "head", "language")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("Role"), {"fields": ("role", "head")}))

    def save_model(self, request, obj, form, change):
        """Changes made here are audited like the profile page's (the password never)."""
        concrete = {f.name for f in User._meta.concrete_fields} - {"password"}
        fields = [name for name in form.changed_data if name in concrete]
        before = snapshot(User.objects.get(pk=obj.pk), fields) if change else {}
        super().save_model(request, obj, form, change)
        if not change:
            audit_record(actor=request.user, instance=obj, action=AuditEntry.Action.CREATE)
            return
        changes = diff(before, snapshot(obj, fields))
        others = sorted(set(form.changed_data) - concrete - {"password"})  # groups, permissions
        if changes or others:
            audit_record(
                actor=request.user,
                instance=obj,
                action=AuditEntry.Action.UPDATE,
                changes=changes,
                note=", ".join(others),
            )

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            user_password_changed(actor=request.user, user=user, note="password set in the admin")
        return response


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "content_type", "object_repr")
    list_filter = ("action", "content_type")
    search_fields = ("object_repr", "object_id")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # the log is evidence: nobody, not even a superuser, edits or removes it here
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Queued background work: pending rows wait for the broker (the drain publishes them)."""

    list_display = ("id", "task", "created_at", "attempts", "sent_at", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter), "task")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
