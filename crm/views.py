from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import selectors
from crm.access import manager_required
from crm.context_processors import section_label
from crm.forms import CalendarDayForm, ProfileForm, add_service_errors
from crm.models import CalendarDay
from crm.services import (
    calendar_day_delete,
    calendar_day_save,
    user_password_changed,
    user_profile_update,
    user_set_language,
)
from crm.validators import DATE_MAX, DATE_MIN


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
        user = user_profile_update(actor=request.user, user=request.user, data=form.cleaned_data)
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


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password page; the change is audited and the user's API tokens revoked."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(actor=self.request.user, user=form.user)
        return response


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


# --- the non-working-dates calendar (managers) --------------------------------------------------
def _calendar_url(year: int) -> str:
    return f"{reverse('calendar')}?year={year}"


@manager_required
def calendar(request):
    """Holidays and moved working days of one year (``?year=``, default this year)."""
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    if not DATE_MIN.year <= year <= DATE_MAX.year:
        year = today.year
    years = sorted({*selectors.calendar_years(), today.year, today.year + 1, year})
    return render(
        request,
        "crm/calendar.html",
        {"year": year, "years": years, "days": selectors.calendar_days_of_year(year)},
    )


@manager_required
def calendar_edit(request, pk=None):
    day = get_object_or_404(CalendarDay, pk=pk) if pk else CalendarDay()
    form = CalendarDayForm(request.POST or None, instance=day)
    if request.method == "POST" and form.is_valid():
        try:
            day = calendar_day_save(actor=request.user, day=day, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Calendar saved."))
            return HttpResponseRedirect(_calendar_url(day.date.year))
    return render(
        request,
        "crm/calendar_form.html",
        {"form": form, "day": day},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@manager_required
def calendar_delete(request, pk):
    day = get_object_or_404(CalendarDay, pk=pk)
    year = day.date.year
    calendar_day_delete(actor=request.user, day=day)
    messages.success(request, _("The date was removed from the calendar."))
    return HttpResponseRedirect(_calendar_url(year))
