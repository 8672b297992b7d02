"""API token authentication with an expiry (``API_TOKEN_TTL_HOURS``)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def token_expired(token) -> bool:
    hours = settings.API_TOKEN_TTL_HOURS
    return bool(hours) and token.created <= timezone.now() - timedelta(hours=hours)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing (and deleting) a token older than the TTL."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("The token has expired. Request a new one from /api/auth/token/.")
            )
        return user, token
