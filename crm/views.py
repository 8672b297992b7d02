from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.context_processors import section_label
from crm.forms import ProfileForm
from crm.services import user_set_language


@login_required
def dashboard(request):
    return render(request, "crm/dashboard.html")


@login_required
def coming(request, section: str):
    label = section_label(section)
    if label is None:
        raise Http404(_("Not found."))
    return render(request, "crm/coming.html", {"section_label": label, "section": section})


@login_required
def profile(request):
    form = ProfileForm(
        request.POST or None,
        instance=request.user,
        initial={"language": request.user.language or translation.get_language()},
    )
    if request.method == "POST" and form.is_valid():
        user = form.save()
        translation.activate(user.language)
        messages.success(request, _("Your profile has been saved."))
        response = HttpResponseRedirect(reverse("profile"))
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
        return response
    return render(request, "crm/profile.html", {"form": form})


@require_POST
def switch_language(request):
    """Like Django's set_language, and remembers the choice in the signed-in user's profile."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or request.headers.get("referer") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return response
    if request.user.is_authenticated and request.user.language != language:
        user_set_language(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
    )
    return response
