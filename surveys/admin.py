"""Configuration screens of surveys for administrators: questionnaires, campaigns, the settings
and the refused addresses. Invitations and answers have no admin screen: an anonymous
campaign's answers are never shown with their respondent."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from surveys import services
from surveys.models import (
    Campaign,
    EmailBounce,
    Questionnaire,
    QuestionnaireItem,
    SurveySettings,
    ThemeKeyword,
)


class ItemInline(admin.TabularInline):
    model = QuestionnaireItem
    extra = 1
    raw_id_fields = ("product_line",)


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("code", "title_ru", "title_en", "ask_nps", "is_active")
    search_fields = ("code", "title_ru", "title_en")
    inlines = [ItemInline]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "trigger", "status", "anonymous", "launched_at", "next_run_on")
    list_filter = ("kind", "trigger", "status")
    search_fields = ("name",)
    readonly_fields = ("launched_at", "created_by")
    actions = ["launch"]

    @admin.action(description=_("Send the selected campaigns to their audience now"))
    def launch(self, request, queryset):
        for campaign in queryset:
            try:
                count = services.campaign_launch(actor=request.user, campaign=campaign)
            except ValidationError as exc:
                self.message_user(request, f"{campaign}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"{campaign}: {count}")


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "quiet_days", "send_rate_per_minute", "company_head_name")

    def has_add_permission(self, request):
        return not SurveySettings.objects.exists()


@admin.register(EmailBounce)
class EmailBounceAdmin(admin.ModelAdmin):
    list_display = ("email", "bounced_at", "reason")
    search_fields = ("email",)


@admin.register(ThemeKeyword)
class ThemeKeywordAdmin(admin.ModelAdmin):
    list_display = ("text", "language", "theme")
    list_filter = ("language", "theme")
    search_fields = ("text",)
