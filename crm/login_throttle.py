"""What a refused login looks like when django-axes has locked it out (too many failures).

Pages get a page in the user's language; the API (the token endpoint) gets JSON. Both answer
429 and say when to try again; neither says whether the user name exists.
"""

import math

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def cooloff_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME * 60))


def lockout_message() -> str:
    minutes = cooloff_minutes()
    return ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute.",
        "Too many failed login attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message()}, status=status)
    else:
        response = render(
            request, "registration/locked_out.html", {"message": lockout_message()}, status=status
        )
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response
