"""Core API: who am I, the non-working-dates calendar (read-only), plus the project-wide
exception handler."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.urls import get_resolver
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import exception_handler as drf_exception_handler

from crm import beacons, selectors, services
from crm import dashboard as kpi
from crm.api_router import app_router
from crm.forms import BeaconRuleForm, DashboardForm
from crm.models import BeaconRule, BeaconState, CalendarDay, User
from crm.validators import DATE_MAX, DATE_MIN

router = app_router()


@extend_schema(exclude=True)
@api_view(["GET"])
def api_root(request, format=None):  # noqa: A002 - DRF's name for the suffix argument
    """The browsable API's index: every collection the apps' routers publish (their list
    routes), found in the URLconf, so crm names no app."""
    names = sorted(
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.endswith("-list")
    )
    return Response(
        {
            name.removesuffix("-list"): reverse(name, request=request, format=format)
            for name in names
        }
    )


def exception_handler(exc, context):
    """Business-rule errors raised by services become 400s with their message, never 500s."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    elif isinstance(exc, IntegrityError):
        exc = ValidationError({"detail": [_("The change conflicts with existing data.")]})
    elif isinstance(exc, OverflowError):
        # a number the database cannot hold (SQLite: beyond 64 bits). In the id of the URL
        # (``/api/clients/165248331022401717857236811776/``) no such row exists: 404, as
        # PostgreSQL answers; elsewhere the input is out of range: 400.
        view = context.get("view")
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if lookup in getattr(view, "kwargs", {}):
            exc = NotFound()
        else:
            exc = ValidationError({"detail": [_("A number or a date is out of range.")]})
    return drf_exception_handler(exc, context)


class MeSerializer(serializers.ModelSerializer):
    # "" = no preference (the site's default language); declared so the schema allows it
    language = serializers.ChoiceField(
        choices=User._meta.get_field("language").choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "role", "head", "language"]
        read_only_fields = fields


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The signed-in user and their role."""
    return Response(MeSerializer(request.user).data, status=status.HTTP_200_OK)


class CalendarDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["id", "date", "kind", "name"]
        read_only_fields = fields


class CalendarDayViewSet(viewsets.ReadOnlyModelViewSet):
    """Holidays and moved working days the working-time clocks skip or count (``?year=2027``).
    Every signed-in user may read them (their deadlines depend on them); managers edit them on
    the working calendar page."""

    serializer_class = CalendarDaySerializer
    filterset_fields = ["kind"]

    def get_queryset(self):
        year = self.request.query_params.get("year", "")
        if year.isdigit() and DATE_MIN.year <= int(year) <= DATE_MAX.year:
            return selectors.calendar_days_of_year(int(year)).order_by("date")
        return CalendarDay.objects.order_by("date")


router.register("calendar-days", CalendarDayViewSet, basename="calendar-day")


class BeaconStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = BeaconState
        fields = ["state", "value", "url", "since", "checked_at", "notified_at"]
        read_only_fields = fields


class BeaconRuleSerializer(serializers.ModelSerializer):
    state = BeaconStateSerializer(read_only=True)
    # blank for the rules not scoped to a class: "" is one of the documented values
    scope_class = serializers.ChoiceField(
        choices=BeaconRule._meta.get_field("scope_class").choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = BeaconRule
        fields = ["id", *BeaconRule.EDITABLE, "state"]
        read_only_fields = fields


class BeaconRuleViewSet(viewsets.ModelViewSet):
    """Beacon rules with their current state (crm/beacons.py). Managers read and write every
    rule; an account manager reads the rules of their own scope only and writes none (403);
    another's rule is a 404. Writes are checked by the page's form (the same messages)."""

    serializer_class = BeaconRuleSerializer
    filterset_fields = ["active", "metric"]

    def get_queryset(self):
        return (
            beacons.visible_rules(self.request.user)
            .select_related("state")
            .prefetch_related("recipients")
            .order_by("name", "id")
        )

    def _save(self, request, instance, partial=False):
        if not request.user.sees_everything:
            raise PermissionDenied(_("Only managers edit beacon rules."))
        data = {}
        if partial and instance.pk:
            data = BeaconRuleSerializer(instance).data
            data.pop("state", None)
        data.update(request.data.items() if hasattr(request.data, "items") else {})
        if isinstance(data.get("active"), str):
            data["active"] = data["active"].lower() in ("1", "true", "on", "yes")
        form = BeaconRuleForm(data, instance=instance)
        if not form.is_valid():
            raise ValidationError({k: list(v) for k, v in form.errors.items()})
        rule = form.save()
        BeaconState.objects.get_or_create(rule=rule)
        return BeaconRuleSerializer(self.get_queryset().get(pk=rule.pk)).data

    def create(self, request, *args, **kwargs):
        return Response(self._save(request, BeaconRule()), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        rule = self.get_object()
        return Response(self._save(request, rule, partial=kwargs.get("partial", False)))

    def destroy(self, request, *args, **kwargs):
        rule = self.get_object()
        if not request.user.sees_everything:
            raise PermissionDenied(_("Only managers edit beacon rules."))
        rule.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


router.register("beacon-rules", BeaconRuleViewSet, basename="beacon-rule")


# --- the dashboard's KPIs (crm/dashboard.py) ----------------------------------------------------
class KpiSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    group = serializers.CharField()
    kind = serializers.CharField(help_text="number, money, percent (a value in percent), decimal")
    value = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    previous = serializers.DecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="null for a current state"
    )
    change_pct = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    target = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    url = serializers.CharField(help_text="the filtered list behind the figure")


class ManagerRowSerializer(serializers.Serializer):
    account_manager = serializers.IntegerField(allow_null=True, help_text="null: the totals")
    values = serializers.DictField(
        child=serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    )


class DashboardSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="exclusive: the period is [start, end)")
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()
    kpis = KpiSerializer(many=True)
    managers = ManagerRowSerializer(many=True, help_text="managers only; empty otherwise")


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, enum=["month", "quarter", "year", "custom"]),
        OpenApiParameter("day", OpenApiTypes.DATE, description="a day in the period"),
        OpenApiParameter("start", OpenApiTypes.DATE, description="custom: the first day"),
        OpenApiParameter("end", OpenApiTypes.DATE, description="custom: the last day"),
        OpenApiParameter("account_manager", int, description="managers only"),
        OpenApiParameter("segment", int, description="a target segment"),
    ],
    responses=DashboardSerializer,
)
@api_view(["GET"])
def dashboard_kpis(request):
    """The dashboard's KPI values for a period (default: the current month to date) and
    filters, with the previous period's values and the change in %; an account manager gets
    their own figures only, a manager also the per-manager table."""
    user = request.user
    today = timezone.localdate()
    form = DashboardForm(request.query_params, user=user, today=today, extra_filters=kpi.filters())
    if not form.is_valid():
        raise ValidationError(form.errors)
    managers = user.sees_everything
    ctx = kpi.KpiContext(
        period=form.period(),
        user=user,
        today=today,
        account_manager=form.account_manager_id() if managers else None,
        filters=form.chosen_filters(),
    )
    board = kpi.cached_board(ctx, table=managers)
    kpis = []
    for card in kpi.cards(managers=managers):
        result = board.results[card.key]
        kpis.append(
            {
                "key": card.key,
                "label": str(card.label),
                "group": card.group,
                "kind": result.figure.kind,
                "value": result.figure.value,
                "previous": result.previous.value if result.previous else None,
                "change_pct": result.change,
                "target": card.target,
                "url": request.build_absolute_uri(result.figure.url) if result.figure.url else "",
            }
        )
    rows: dict = {}
    for key, values in board.table.items():
        for am, figure in values.items():
            rows.setdefault(am, {})[key] = figure.value
    data = {
        "start": ctx.period.start,
        "end": ctx.period.end,
        "previous_start": ctx.previous.start,
        "previous_end": ctx.previous.end,
        "kpis": kpis,
        "managers": [
            {"account_manager": am, "values": values}
            for am, values in sorted(rows.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
    }
    return Response(DashboardSerializer(data).data)


class ObtainTokenView(ObtainAuthToken):
    """``POST /api/auth/token/`` (username, password) → ``{"token": ...}``.

    Like DRF's view, with two differences: the login attempt is counted by the login throttle
    (the Django request reaches ``authenticate``, so a locked-out user or address gets 429),
    and an expired token is replaced by a new one instead of being handed out again.
    """

    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request._request})
        serializer.is_valid(raise_exception=True)
        token = services.user_api_token(user=serializer.validated_data["user"])
        return Response({"token": token.key})


urlpatterns = router.urls
