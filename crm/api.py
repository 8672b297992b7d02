"""Core API: who am I, plus the project-wide exception handler."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.models import User


def exception_handler(exc, context):
    """Business-rule errors raised by services become 400s with their message, never 500s."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    elif isinstance(exc, IntegrityError):
        exc = ValidationError({"detail": [_("The change conflicts with existing data.")]})
    return drf_exception_handler(exc, context)


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "role", "head", "language"]
        read_only_fields = fields


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The signed-in user and their role."""
    return Response(MeSerializer(request.user).data, status=status.HTTP_200_OK)
