from django.conf import settings
from django.utils import translation


class UserLanguageMiddleware:
    """Activates the signed-in user's preferred language unless the request chose one.

    LocaleMiddleware has already picked a language from the cookie or the browser; a user who
    saved a preference in the profile gets it even on a new device (no cookie yet).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        has_cookie = settings.LANGUAGE_COOKIE_NAME in request.COOKIES
        if user is not None and user.is_authenticated and user.language and not has_cookie:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)
