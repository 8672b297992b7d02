"""REST API of the feedback app: complaints (CRUD + steps, scoped by role) and themes."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clients.models import Client, ContactPerson
from crm.access import scope_for_user
from crm.api_fields import ScopedPrimaryKeyRelatedField
from crm.api_router import app_router
from crm.models import LONG_TEXT_MAX_LENGTH, User
from feedback import services
from feedback.filters import ComplaintFilter
from feedback.models import Complaint, Theme

router = app_router()


class ThemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Theme
        fields = ["id", "code", "name_en", "name_ru", "is_active", "order"]


READ_ONLY_FIELDS = [
    "status",
    "registered_by",
    "client_informed_at",
    "client_informed_via",
    "rejection_reason",
    "registered_at",
    "acknowledged_at",
    "resolved_at",
    "process_fixed_at",
    "closed_at",
    "rejected_at",
    "sla_class_a",
    "ack_due_at",
    "resolve_due_at",
]


class ComplaintSerializer(serializers.ModelSerializer):
    client = ScopedPrimaryKeyRelatedField(queryset=Client.objects.all())
    contact = ScopedPrimaryKeyRelatedField(
        queryset=ContactPerson.objects.all(), required=False, allow_null=True
    )
    responsible = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False
    )
    # read-only fields built from the model lose ``blank``: declared so the schema allows ""
    client_informed_via = serializers.ChoiceField(
        choices=Complaint.Channel.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Complaint
        fields = ["id", "client", *services.EDITABLE_FIELDS, *READ_ONLY_FIELDS]
        read_only_fields = READ_ONLY_FIELDS

    def validate_client(self, client):
        if self.instance is not None and client.pk != self.instance.client_id:
            raise serializers.ValidationError(_("The client of a complaint cannot be changed."))
        return client


class StepSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(services.TRANSITIONS))
    note = serializers.CharField(required=False, allow_blank=True, max_length=255)
    why_1 = serializers.CharField(required=False, allow_blank=True, max_length=500)
    why_2 = serializers.CharField(required=False, allow_blank=True, max_length=500)
    why_3 = serializers.CharField(required=False, allow_blank=True, max_length=500)
    why_4 = serializers.CharField(required=False, allow_blank=True, max_length=500)
    why_5 = serializers.CharField(required=False, allow_blank=True, max_length=500)
    root_cause = serializers.ChoiceField(
        choices=Complaint.RootCause.choices, required=False, allow_blank=True
    )
    company_at_fault = serializers.BooleanField(required=False, allow_null=True)
    resolution = serializers.CharField(
        required=False, allow_blank=True, max_length=LONG_TEXT_MAX_LENGTH
    )
    goodwill_gift = serializers.CharField(required=False, allow_blank=True, max_length=255)
    goodwill_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )
    corrective_action = serializers.CharField(
        required=False, allow_blank=True, max_length=LONG_TEXT_MAX_LENGTH
    )
    rejection_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=LONG_TEXT_MAX_LENGTH
    )


REGISTER_FIELDS = [
    "client",
    "contact",
    "theme",
    "description",
    "priority",
    "channel",
    "touchpoint",
    "served_by",
    "responsible",
]


class IsManagerToDelete(permissions.BasePermission):
    def has_permission(self, request, view):
        return view.action != "destroy" or request.user.sees_everything


class ComplaintViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Complaints the user may see (account managers: their clients'). Writes go through the
    services; status changes only through ``POST /complaints/{id}/step/``."""

    serializer_class = ComplaintSerializer
    permission_classes = [permissions.IsAuthenticated, IsManagerToDelete]
    filterset_class = ComplaintFilter
    ordering_fields = ["registered_at", "id"]
    search_fields = ["description"]

    def get_queryset(self):
        return scope_for_user(Complaint.objects.all(), self.request.user).order_by(
            "-registered_at", "-id"
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        register = {k: data.pop(k) for k in REGISTER_FIELDS if k in data}
        complaint = services.complaint_register(actor=self.request.user, **register)
        if data:
            complaint = services.complaint_update(
                actor=self.request.user, complaint=complaint, data=data
            )
        serializer.instance = complaint

    def perform_destroy(self, instance):
        services.complaint_delete(actor=self.request.user, complaint=instance)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("client", None)
        serializer.instance = services.complaint_update(
            actor=self.request.user, complaint=serializer.instance, data=data
        )

    @extend_schema(request=StepSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        complaint = self.get_object()
        step = StepSerializer(data=request.data)
        step.is_valid(raise_exception=True)
        data = dict(step.validated_data)
        name = data.pop("action")
        complaint = services.complaint_transition(
            actor=request.user, complaint=complaint, action=name, data=data
        )
        return Response(self.get_serializer(complaint).data, status=status.HTTP_200_OK)


class ThemeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Theme.objects.all()
    serializer_class = ThemeSerializer


router.register("complaints", ComplaintViewSet, basename="complaint")
router.register("complaint-themes", ThemeViewSet, basename="complaint-theme")

urlpatterns = router.urls
