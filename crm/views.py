from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import beacons, selectors
from crm import dashboard as kpi
from crm.access import manager_required
from crm.context_processors import section_label
from crm.forms import CalendarDayForm, DashboardForm, ProfileForm, add_service_errors
from crm.models import CalendarDay, User
from crm.services import (
    calendar_day_delete,
    calendar_day_save,
    user_password_changed,
    user_profile_update,
    user_set_language,
)
from crm.validators import DATE_MAX, DATE_MIN


def _dashboard_page(request, form, board, *, managers: bool) -> dict:
    """The cards by group (formatted), the charts' data and the per-manager table."""
    lang = translation.get_language()
    groups = []
    charts = {}
    by_group: dict[str, list] = {}
    for card in kpi.cards(managers=managers):
        result = board.results.get(card.key)
        if result is None:
            continue
        figure = result.figure
        by_group.setdefault(card.group, []).append(
            {
                "card": card,
                "result": result,
                "value": kpi.display(figure),
                "previous": kpi.display(result.previous) if card.compare else "",
                "change": kpi.display_change(result.change) if card.compare else "",
                "tone": kpi.change_tone(card, result.change),
                "target": kpi.display(kpi.Figure(card.target, kind="number"))
                if card.target is not None
                else "",
            }
        )
        if card.chart and figure.series:
            charts[card.key] = {
                "type": card.chart,
                "label": str(card.label),
                "labels": [
                    date_format(p.label, "YEAR_MONTH_FORMAT")
                    if isinstance(p.label, date)
                    else str(p.label)
                    for p in figure.series
                ],
                "values": [kpi.to_number(p.value) for p in figure.series],
                "urls": [p.url for p in figure.series],
                "target": kpi.to_number(card.target),
                "targetLabel": str(_("Target")),
            }
    for group in kpi.groups():
        if group.key in by_group:
            groups.append({"group": group, "cards": by_group[group.key]})
    table = None
    if managers and board.table:
        columns = kpi.columns()
        chosen = form.account_manager_id()
        people = User.objects.filter(role=User.Role.ACCOUNT_MANAGER, is_active=True)
        ids = {am for values in board.table.values() for am in values if am is not None}
        people = User.objects.filter(Q(pk__in=people) | Q(pk__in=ids))
        if chosen is not None:
            people = people.filter(pk=chosen)
        rows = []
        for person in people.order_by("last_name", "first_name", "username"):
            cells = []
            for column in columns:
                values = board.table.get(column.key, {})
                figure = values.get(person.pk)
                if figure is None and column.zero and None in values:
                    figure = kpi.Figure(0, kind=values[None].kind)
                cells.append(
                    {
                        "key": column.key,
                        "value": kpi.display(figure),
                        "url": figure.url if figure else "",
                    }
                )
            rows.append({"person": person, "cells": cells})
        totals = [
            {
                "key": column.key,
                "value": kpi.display(board.table.get(column.key, {}).get(None)),
                "url": getattr(board.table.get(column.key, {}).get(None), "url", ""),
            }
            for column in columns
        ]
        table = {"columns": columns, "rows": rows, "totals": totals}
    return {"groups": groups, "charts": charts, "table": table, "language": lang}


def _neighbours(form, period) -> dict:
    """The query strings of the previous and next period of the same kind (none after today)."""
    query = form.data.copy() if form.is_bound else QueryDict(mutable=True)
    kind = form.period_kind()
    if kind == "custom":
        return {}
    before = query.copy()
    before["kind"] = kind
    before["day"] = (period.start - timedelta(days=1)).isoformat()
    result = {"previous": before.urlencode()}
    if period.end <= form.today:
        after = query.copy()
        after["kind"] = kind
        after["day"] = period.end.isoformat()
        result["next"] = after.urlencode()
    return result


@login_required
def dashboard(request):
    """``/``: the manager dashboard for managers and admins; an account manager's own day (the
    apps' home panels: My day) and their own KPI cards (docs/domain.md, "Manager dashboard")."""
    today = timezone.localdate()
    user = request.user
    managers = user.sees_everything
    form = DashboardForm(request.GET or None, user=user, today=today, extra_filters=kpi.filters())
    period = form.period()
    ctx = kpi.KpiContext(
        period=period,
        user=user,
        today=today,
        account_manager=form.account_manager_id() if managers else None,
        filters=form.chosen_filters(),
    )
    board = kpi.cached_board(ctx, table=managers)
    if request.GET.get("format") == "xlsx":
        return _dashboard_xlsx(request, ctx, board, managers=managers)
    context = _dashboard_page(request, form, board, managers=managers)
    context |= {
        "form": form,
        "period": period,
        "previous_period": ctx.previous,
        "neighbours": _neighbours(form, period),
        "managers": managers,
        "panels": [] if managers else kpi.home_panels(request, today),
        "beacons": beacons.firing_for(request.user),
    }
    query = request.GET.copy()
    query.pop("format", None)
    context["query"] = query.urlencode()
    return render(request, "crm/dashboard.html", context)


def _table_value(values: dict, person_id: int, column):
    """A cell's plain value as on the page: 0 for a person without a figure where the column
    has figures (``zero``), None ("—") where it has none at all."""
    figure = values.get(person_id)
    if figure is None:
        return 0 if column.zero and None in values else None
    return figure.value


def _dashboard_xlsx(request, ctx, board, *, managers: bool) -> HttpResponse:
    """The cards (value, previous value, change in %, the list behind each) and, for a
    manager, the per-manager table, as a workbook of plain numbers."""
    from crm.formats import currency_code

    units = {"money": currency_code(), "percent": "%"}
    period, previous = ctx.period, ctx.previous
    rows = [
        [_("Period"), period.start, period.last_day],
        [_("Previous period"), previous.start, previous.last_day],
        [],
        [
            _("Group"),
            _("Indicator"),
            _("Value"),
            _("Previous period"),
            _("Change, %"),
            _("Unit"),
            _("List"),
        ],
    ]
    groups = {g.key: g.label for g in kpi.groups()}
    for card in kpi.cards(managers=managers):
        result = board.results[card.key]
        figure = result.figure
        rows.append(
            [
                groups.get(card.group, card.group),
                card.label,
                figure.value,
                result.previous.value if result.previous else None,
                result.change,
                units.get(figure.kind, ""),
                request.build_absolute_uri(figure.url) if figure.url else "",
            ]
        )
    sheets = [(_("Indicators"), rows)]
    if managers and board.table:
        columns = kpi.columns()
        ids = {am for values in board.table.values() for am in values if am is not None}
        people = User.objects.filter(
            Q(pk__in=ids) | Q(role=User.Role.ACCOUNT_MANAGER, is_active=True)
        )
        if ctx.account_manager is not None:
            people = people.filter(pk=ctx.account_manager)
        table = [[_("Account manager"), *(c.label for c in columns)]]
        for person in people.order_by("last_name", "first_name", "username"):
            table.append(
                [
                    str(person),
                    *(_table_value(board.table.get(c.key, {}), person.pk, c) for c in columns),
                ]
            )
        table.append(
            [
                _("Total"),
                *(getattr(board.table.get(c.key, {}).get(None), "value", None) for c in columns),
            ]
        )
        sheets.append((_("By account manager"), table))
    response = HttpResponse(
        kpi.workbook(sheets),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"dashboard-{period.start:%Y-%m-%d}-{period.last_day:%Y-%m-%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


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
