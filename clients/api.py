"""REST API of the client base. Every queryset goes through crm.access; writes through services."""

from rest_framework import mixins, serializers, viewsets

from clients import extensions, selectors, services
from clients.filters import (
    ClientFilter,
    ContactFilter,
    InteractionFilter,
    ProductFilter,
    SettlementFilter,
)
from clients.models import (
    Client,
    ContactPerson,
    Interaction,
    Product,
    ProductLine,
    Settlement,
    Tag,
    TargetSegment,
)
from crm.access import scope_for_user
from crm.api_fields import ScopedPrimaryKeyRelatedField
from crm.api_router import app_router
from crm.api_views import ServiceSave

router = app_router()


class ScopedClientField(serializers.PrimaryKeyRelatedField):
    """A client reference limited to the clients the requesting user may see."""

    def get_queryset(self):
        return scope_for_user(Client.objects.all(), self.context["request"].user)


class ClientSerializer(serializers.ModelSerializer):
    tags = serializers.SlugRelatedField(
        slug_field="name", many=True, required=False, queryset=Tag.objects.all()
    )
    parent = ScopedClientField(required=False, allow_null=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "kind",
            "name",
            "inn",
            "external_id",
            "industry",
            "activity",
            "has_branches",
            "employees",
            "customer_type",
            "year_founded",
            "birthday",
            "parent",
            "account_manager",
            "target_segment",
            "source",
            "tags",
            "address_form",
            "email",
            "phone",
            "city",
            "notes",
            "last_contact_at",
            "next_step_date",
            "next_step_goal",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "last_contact_at",
            "next_step_date",
            "next_step_goal",
            "created_at",
            "updated_at",
        ]


def _add_extension_fields(extension: extensions.ClientListExtension) -> None:
    """An extension's read-only fields of a client (segmentation: the current classes), shown
    after the client's own fields."""
    fields = list(ClientSerializer.Meta.fields)
    at = fields.index("last_contact_at")
    for name, make in extension.api_fields.items():
        ClientSerializer._declared_fields[name] = make()
        if name not in fields:
            fields.insert(at, name)
            at += 1
    ClientSerializer.Meta.fields = fields


extensions.on_client_list_extension(_add_extension_fields)


class ContactSerializer(serializers.ModelSerializer):
    client = ScopedClientField()

    class Meta:
        model = ContactPerson
        fields = [
            "id",
            "client",
            "full_name",
            "position",
            "email",
            "phone",
            "birthday",
            "address_form",
            "greeting_consent",
            "is_primary",
            "survey_opt_out",
            "language",
            "external_id",
        ]
        # no "one primary per client" check here: making a contact primary un-marks the
        # previous one (clients.services.contact_save), as on the page; the database
        # constraint still holds
        validators: list = []


class SettlementSerializer(serializers.ModelSerializer):
    client = ScopedClientField()

    class Meta:
        model = Settlement
        fields = [
            "id",
            "client",
            "product",
            "date",
            "amount",
            "margin",
            "document_number",
            "external_id",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class InteractionSerializer(serializers.ModelSerializer):
    client = ScopedClientField()
    contact = ScopedPrimaryKeyRelatedField(
        queryset=ContactPerson.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "client",
            "kind",
            "direction",
            "occurred_at",
            "author",
            "contact",
            "touchpoint",
            "summary",
            "outcome",
            "promise",
            "promise_due",
            "promise_done_at",
            "next_step_date",
            "next_step_goal",
            "next_step_product",
        ]
        read_only_fields = ["author", "promise_done_at"]


class ProductLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductLine
        fields = ["id", "name", "description"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "line", "name", "code", "price", "is_active"]


class TargetSegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TargetSegment
        fields = ["id", "name", "description", "products"]


class ScopedViewSet(mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Rows scoped to the user; DELETE goes through the audited service."""

    def get_queryset(self):
        return scope_for_user(super().get_queryset(), self.request.user)

    def perform_destroy(self, instance):
        # a service's django PermissionDenied becomes DRF's 403 with its message (DRF does it)
        services.record_delete(actor=self.request.user, instance=instance)


class ClientViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    queryset = (
        Client.objects.select_related("account_manager", "target_segment")
        .prefetch_related("tags")
        .order_by("name", "id")
    )
    serializer_class = ClientSerializer
    filterset_class = ClientFilter
    ordering_fields = ["name", "created_at", "last_contact_at", "next_step_date"]

    def get_queryset(self):
        return super().get_queryset().select_related(*selectors.card_related())

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        serializer.instance = services.client_create(actor=self.request.user, data=data, tags=tags)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        tags = data.pop("tags", None)
        serializer.instance = services.client_update(
            actor=self.request.user, client=serializer.instance, data=data, tags=tags
        )


class ContactViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ScopedViewSet,
):
    queryset = ContactPerson.objects.select_related("client").order_by("id")
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["full_name", "email", "phone"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        client = data.pop("client")
        serializer.instance = services.contact_save(
            actor=self.request.user, client=client, data=data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        client = data.pop("client", serializer.instance.client)
        serializer.instance = services.contact_save(
            actor=self.request.user, client=client, contact=serializer.instance, data=data
        )


class SettlementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    queryset = Settlement.objects.select_related("client", "product").order_by("-date", "-id")
    serializer_class = SettlementSerializer
    filterset_class = SettlementFilter

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.settlement_record(
            actor=self.request.user,
            client=data.pop("client"),
            product=data.get("product"),
            date=data["date"],
            amount=data["amount"],
            margin=data.get("margin"),
            document_number=data.get("document_number", ""),
            external_id=data.get("external_id"),
        )


class InteractionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    queryset = Interaction.objects.select_related("client", "author").order_by("-occurred_at")
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.interaction_log(
            actor=self.request.user, client=data.pop("client"), data=data
        )


class CatalogueViewSet(ServiceSave, viewsets.ModelViewSet):
    """Shared catalogue: everyone reads, managers write."""

    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class ProductLineViewSet(CatalogueViewSet):
    queryset = ProductLine.objects.order_by("name")
    serializer_class = ProductLineSerializer
    save_service = staticmethod(services.product_line_save)
    instance_arg = "line"


class ProductViewSet(CatalogueViewSet):
    queryset = Product.objects.order_by("name")
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    save_service = staticmethod(services.product_save)
    instance_arg = "product"


class TargetSegmentViewSet(CatalogueViewSet):
    queryset = TargetSegment.objects.prefetch_related("products").order_by("name")
    serializer_class = TargetSegmentSerializer
    save_service = staticmethod(services.segment_save)
    instance_arg = "segment"
    m2m_fields = ("products",)


router.register("clients", ClientViewSet, basename="client")
router.register("contacts", ContactViewSet, basename="contact")
router.register("settlements", SettlementViewSet, basename="settlement")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("product-lines", ProductLineViewSet, basename="productline")
router.register("products", ProductViewSet, basename="product")
router.register("target-segments", TargetSegmentViewSet, basename="targetsegment")

urlpatterns = router.urls
