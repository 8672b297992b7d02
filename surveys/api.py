"""REST API of surveys: questionnaires (everyone reads, managers write), campaigns (managers
create, edit, preview the audience and launch), invitations (read-only, never a token or its
hash), answers (read-only but for their comment themes, set as on the answers page; an
anonymous campaign's without client, contact or invitation) and the analytics figures of the
page.

Scope: managers see everything; an account manager sees the invitations and answers of their
own clients in named campaigns only (``surveys.analytics.answers_for``)."""

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api_permissions import ManagersWrite
from crm.api_router import app_router
from crm.api_views import ServiceSave
from feedback.models import Theme
from surveys import analytics, services
from surveys.filters import LAST_12, AnalyticsForm, AnswerFilter
from surveys.models import (
    Answer,
    AnswerItem,
    Campaign,
    Invitation,
    Questionnaire,
    QuestionnaireItem,
)
from surveys.selectors import audience
from surveys.services.themes import answer_themes_set

router = app_router()


# --- questionnaires ----------------------------------------------------------------------------
class QuestionnaireItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuestionnaireItem
        fields = ["id", "text_ru", "text_en", "product_line", "order"]


class QuestionnaireSerializer(serializers.ModelSerializer):
    items = QuestionnaireItemSerializer(many=True, read_only=True)

    class Meta:
        model = Questionnaire
        fields = [
            "id",
            *services.questionnaires.QUESTIONNAIRE_FIELDS,
            "items",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"code": {"required": False}}  # the service derives it from the title


class QuestionnaireViewSet(
    ServiceSave,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Questionnaires with their items (items are edited on the questionnaire page)."""

    serializer_class = QuestionnaireSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    queryset = Questionnaire.objects.prefetch_related("items").order_by("id")
    save_service = staticmethod(services.questionnaire_save)
    instance_arg = "questionnaire"


# --- campaigns ---------------------------------------------------------------------------------
CAMPAIGN_READ_ONLY = ["launched_at", "created_by", "created_at", "updated_at"]


class CampaignSerializer(serializers.ModelSerializer):
    filters = serializers.JSONField(
        required=False,
        help_text="Audience: {abc: [..], xyz: [..], lifecycle: [..], segment: [ids], "
        "account_manager: [ids], product_line: [ids], not_surveyed_months: n}",
    )

    class Meta:
        model = Campaign
        fields = ["id", *services.campaigns.CAMPAIGN_FIELDS, *CAMPAIGN_READ_ONLY]
        read_only_fields = CAMPAIGN_READ_ONLY


class AudienceSerializer(serializers.Serializer):
    audience = serializers.IntegerField(help_text="Contacts the campaign would invite now.")


class LaunchSerializer(serializers.Serializer):
    invitations = serializers.IntegerField(help_text="Invitations created and queued.")


class CampaignViewSet(
    ServiceSave,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Campaigns: everyone reads, managers create and edit (``services.campaign_save``),
    preview the audience and launch (``services.campaign_launch``)."""

    serializer_class = CampaignSerializer
    permission_classes = [permissions.IsAuthenticated, ManagersWrite]
    queryset = Campaign.objects.order_by("-created_at", "-id")
    save_service = staticmethod(services.campaign_save)
    instance_arg = "campaign"

    def _manager_only(self):
        if not self.request.user.sees_everything:
            self.permission_denied(self.request)

    @extend_schema(request=None, responses=AudienceSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """The number of contacts a launch would invite now (filters and throttle)."""
        self._manager_only()
        campaign = self.get_object()
        return Response({"audience": audience(campaign, now=timezone.now()).count()})

    @extend_schema(request=None, responses=LaunchSerializer)
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        """Invite the audience now and queue the emails."""
        self._manager_only()
        campaign = self.get_object()
        count = services.campaign_launch(actor=request.user, campaign=campaign)
        return Response({"invitations": count})


# --- invitations and answers -------------------------------------------------------------------
class InvitationSerializer(serializers.ModelSerializer):
    answered_at = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        # never the token nor its hash (they are not fields of the invitation at all)
        fields = [
            "id",
            "campaign",
            "client",
            "contact",
            "language",
            "status",
            "created_at",
            "sent_at",
            "opened_at",
            "answered_at",
            "expires_at",
            "closed_at",
            "reminders_sent",
            "last_reminder_at",
        ]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_answered_at(self, obj) -> str | None:
        # an anonymous campaign's answer time would match its answer: not shown
        if obj.campaign.anonymous or obj.answered_at is None:
            return None
        return serializers.DateTimeField().to_representation(obj.answered_at)


class InvitationViewSet(viewsets.ReadOnlyModelViewSet):
    """Invitations the user may see (account managers: their clients', named campaigns)."""

    serializer_class = InvitationSerializer

    def get_queryset(self):
        return (
            analytics.invitations_for(self.request.user)
            .select_related("campaign")
            .order_by("-created_at", "-id")
        )


class AnswerItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnswerItem
        fields = ["item", "score"]


class AnswerThemeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="In the request's language.")

    class Meta:
        model = Theme
        fields = ["id", "code", "name"]


class AnswerSerializer(serializers.ModelSerializer):
    """An answer; for an anonymous campaign without invitation, client, contact or complaint,
    and its submission date only (no time). ``themes``: the comment themes it is tagged with."""

    campaign = serializers.IntegerField(source="invitation.campaign_id", read_only=True)
    anonymous = serializers.BooleanField(source="invitation.campaign.anonymous", read_only=True)
    invitation = serializers.SerializerMethodField()
    client = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    complaint = serializers.SerializerMethodField()
    submitted = serializers.SerializerMethodField()
    items = AnswerItemSerializer(many=True, read_only=True)
    themes = AnswerThemeSerializer(many=True, read_only=True)

    class Meta:
        model = Answer
        fields = [
            "id",
            "campaign",
            "anonymous",
            "invitation",
            "client",
            "contact",
            "nps",
            "items",
            "comment",
            "liked",
            "best_employee",
            "unhappy",
            "complaint",
            "submitted",
            "themes",
        ]

    def _named(self, obj, value):
        return None if obj.invitation.campaign.anonymous else value

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_invitation(self, obj):
        return self._named(obj, obj.invitation_id)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_client(self, obj):
        return self._named(obj, obj.invitation.client_id)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_contact(self, obj):
        return self._named(obj, obj.invitation.contact_id)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_complaint(self, obj):
        return self._named(obj, obj.complaint_id)

    @extend_schema_field(OpenApiTypes.STR)
    def get_submitted(self, obj) -> str:
        """ISO date and time; for an anonymous campaign the date only."""
        local = timezone.localtime(obj.submitted_at)
        if obj.invitation.campaign.anonymous:
            return local.date().isoformat()
        return local.isoformat()


class AnswerThemesSerializer(serializers.Serializer):
    themes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2_147_483_647),
        max_length=100,
        allow_empty=True,
        help_text="Ids of active complaint themes; [] removes every theme.",
    )


class AnswerViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers the user may see, filtered like the answers page. An anonymous campaign's
    answers come without respondent; when fewer than 5 of them match the filters they are left
    out (as on the page)."""

    serializer_class = AnswerSerializer
    filterset_class = AnswerFilter
    ordering_fields = ["submitted_at", "id", "nps"]

    def get_queryset(self):
        return (
            analytics.answers_for(self.request.user)
            .select_related("invitation__campaign")
            .prefetch_related("items", "themes")
            .order_by("-submitted_at", "-id")
        )

    @extend_schema(request=AnswerThemesSerializer, responses=AnswerSerializer)
    @action(detail=True, methods=["put"])
    def themes(self, request, pk=None):
        """Set the answer's comment themes (the list replaces them), as on the answers page:
        whoever may list the answer may tag it; an unknown or inactive theme is a 400 and
        changes nothing. Audited."""
        answer = self.get_object()
        body = AnswerThemesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answer_themes_set(actor=request.user, answer=answer, themes=body.validated_data["themes"])
        return Response(AnswerSerializer(self.get_object(), context={"request": request}).data)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list":
            anonymous = queryset.filter(anonymous=True).count()
            if 0 < anonymous < analytics.MIN_CELL:
                queryset = queryset.exclude(anonymous=True)
        return queryset


# --- analytics ---------------------------------------------------------------------------------
class CellSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="The breakdown's value ('none': none).")
    label = serializers.CharField(allow_blank=True)
    hidden = serializers.BooleanField(help_text="1–4 answers of anonymous campaigns: no figures.")
    answers = serializers.IntegerField(allow_null=True)
    promoters = serializers.IntegerField(allow_null=True)
    passives = serializers.IntegerField(allow_null=True)
    detractors = serializers.IntegerField(allow_null=True)
    nps = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    csat = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    index = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)


class RateSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField(allow_blank=True)
    delivered = serializers.IntegerField()
    answered = serializers.IntegerField()
    rate = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)


class BreakdownsSerializer(serializers.Serializer):
    abc = CellSerializer(many=True)
    xyz = CellSerializer(many=True)
    lifecycle = CellSerializer(many=True)
    segment = CellSerializer(many=True)
    account_manager = CellSerializer(many=True)
    product_line = CellSerializer(many=True)
    campaign = CellSerializer(many=True)


class AnalyticsSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Exclusive: the period is [start, end).")
    target_nps = serializers.IntegerField()
    totals = CellSerializer()
    response = RateSerializer()
    breakdowns = BreakdownsSerializer()
    trend = CellSerializer(many=True, help_text="By month, the 12 months ending with the period.")
    best_employee = CellSerializer(many=True)
    campaign_rates = RateSerializer(many=True)


def _str_key(cell: dict) -> dict:
    key = cell["key"]
    cell["key"] = (
        None if key is None else (key.isoformat() if hasattr(key, "isoformat") else str(key))
    )
    return cell


def _labelled(name: str, rows) -> list[dict]:
    names = analytics.labels(name, [r.key for r in rows])
    out = []
    for row in rows:
        item = _str_key(row.as_dict())
        none = row.key == analytics.NONE
        item["label"] = str(analytics.none_label(name) if none else names.get(row.key, ""))
        out.append(item)
    return out


class SurveyAnalyticsView(APIView):
    """The figures of the survey analytics page, scoped like it."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                description=f"'{LAST_12}' (default), 'mYYYY-MM' (a month of the last 12) or "
                "'qYYYY-N' (a quarter of the last 8)",
            ),
            OpenApiParameter(
                "account_manager", OpenApiTypes.INT, description="managers: one account manager"
            ),
        ],
        responses=AnalyticsSerializer,
    )
    def get(self, request):
        form = AnalyticsForm(
            request.query_params or None, user=request.user, today=timezone.localdate()
        )
        if form.is_bound and not form.is_valid():
            raise ValidationError(form.errors)
        period, trend_period, am = form.chosen()
        data = analytics.cached_report(
            request.user, period=period, trend_period=trend_period, account_manager=am
        )
        body = {
            "period_start": period.start,
            "period_end": period.end,
            "target_nps": analytics.TARGET_NPS,
            "totals": _str_key(data.totals.as_dict()),
            "response": _str_key(data.response.as_dict()),
            "breakdowns": {name: _labelled(name, cells) for name, cells in data.breakdowns.items()},
            "trend": [_str_key(c.as_dict()) for c in data.trend],
            "best_employee": _labelled("best_employee", data.best_employee),
            "campaign_rates": _labelled("campaign", data.campaign_rates),
        }
        return Response(AnalyticsSerializer(body).data)


router.register("survey-questionnaires", QuestionnaireViewSet, basename="survey-questionnaire")
router.register("survey-campaigns", CampaignViewSet, basename="survey-campaign")
router.register("survey-invitations", InvitationViewSet, basename="survey-invitation")
router.register("survey-answers", AnswerViewSet, basename="survey-answer")
urlpatterns = [
    *router.urls,
    path("survey-analytics/", SurveyAnalyticsView.as_view(), name="survey-analytics"),
]
