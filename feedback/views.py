"""Complaint pages: list, board, "my complaints", register, detail with timeline, edit, steps,
informing the client, analytics, SLA settings, themes and notices."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import Client
from crm.access import get_for_user, manager_required
from crm.filters import filter_errors, filtered
from crm.forms import add_service_errors
from crm.worktime import format_minutes
from feedback import analytics, selectors, services, sla
from feedback.filters import ComplaintBoardFilter, ComplaintFilter
from feedback.forms import (
    ComplaintCreateForm,
    ComplaintEditForm,
    InformForm,
    PeriodForm,
    SlaSettingsForm,
    ThemeForm,
    transition_form_class,
)
from feedback.models import Complaint, Priority, Theme

PAGE_SIZE = 25


class CachedCountPaginator(Paginator):
    """The total of a filtered list is a COUNT over up to hundreds of thousands of rows; it is
    cached per scope and filter, invalidated by any complaint write (the analytics data
    version), and for the time-dependent "overdue" filter kept one minute at most."""

    def __init__(self, *args, cache_key: str, overdue: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.cache_key = f"feedback:count:{analytics.data_version()}:{cache_key}"
        self.cache_seconds = 60 if overdue else analytics.CACHE_SECONDS

    @cached_property
    def count(self) -> int:
        value = cache.get(self.cache_key)
        if value is None:
            value = self.object_list.count()
            cache.set(self.cache_key, value, self.cache_seconds)
        return value


def _complaint(request, pk) -> Complaint:
    return get_for_user(
        Complaint.objects.select_related(
            "client", "contact", "theme", "responsible", "served_by", "registered_by"
        ),
        request.user,
        pk=pk,
    )


def _cache_scope(user) -> str:
    """The part of a cache key that says whose complaints a cached figure covers."""
    return "all" if user.sees_everything else f"user{user.pk}"


def _list_page(request, *, mine: bool, template: str):
    filterset = ComplaintFilter(
        request.GET or None,
        queryset=selectors.complaint_list(request.user, mine=mine),
        user=request.user,
    )
    qs = filtered(filterset)
    scope = _cache_scope(request.user) + (":mine" if mine else "")
    key = ":".join(part for part in (scope, filterset.cache_key()) if part)
    paginator = CachedCountPaginator(qs, PAGE_SIZE, cache_key=key, overdue=filterset.overdue_used)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    now = timezone.now()
    return render(
        request,
        template,
        {
            "form": filterset.form,
            "filter_errors": filter_errors(filterset),
            "page": page,
            "overdue": {c.pk for c in page if c.is_overdue(now)},
            "query": query.urlencode(),
            "mine": mine,
        },
    )


@login_required
def complaint_list(request):
    return _list_page(request, mine=False, template="feedback/complaint_list.html")


@login_required
def my_complaints(request):
    return _list_page(request, mine=True, template="feedback/complaint_list.html")


@login_required
def complaint_board(request):
    filterset = ComplaintBoardFilter(
        request.GET or None, queryset=selectors.complaint_list(request.user), user=request.user
    )
    columns = selectors.complaint_board(filtered(filterset))
    now = timezone.now()
    for column in columns:
        column["cards"] = [
            (c, services.allowed_transitions(c), c.is_overdue(now)) for c in column["cards"]
        ]
    return render(
        request,
        "feedback/complaint_board.html",
        {"form": filterset.form, "filter_errors": filter_errors(filterset), "columns": columns},
    )


@login_required
def complaint_create(request):
    client = None
    client_id = request.GET.get("client") or request.POST.get("client")
    if request.GET.get("client"):
        client = get_for_user(Client.objects.all(), request.user, pk=client_id)
    form = ComplaintCreateForm(request.POST or None, user=request.user, client=client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = services.complaint_register(
                actor=request.user,
                client=data["client"],
                contact=data["contact"],
                theme=data["theme"],
                priority=data["priority"],
                channel=data["channel"],
                touchpoint=data["touchpoint"],
                description=data["description"],
                served_by=data["served_by"],
                responsible=data["responsible"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Complaint #%(n)s registered.") % {"n": complaint.pk})
            return HttpResponseRedirect(reverse("feedback:detail", kwargs={"pk": complaint.pk}))
    return render(request, "feedback/complaint_form.html", {"form": form, "client": client})


def _deadline_rows(complaint):
    rows = []
    for d in selectors.complaint_deadlines(complaint):
        left = None
        if d.minutes_left is not None:
            text = format_minutes(d.minutes_left)
            left = (
                _("%(t)s of working time left") % {"t": text}
                if d.minutes_left >= 0
                else _("overdue by %(t)s of working time") % {"t": text}
            )
        rows.append({"d": d, "left": left, "overdue": (d.minutes_left or 0) < 0})
    return rows


@login_required
def complaint_detail(request, pk):
    complaint = _complaint(request, pk)
    breaches = list(complaint.breaches.select_related("escalated_to"))
    return render(
        request,
        "feedback/complaint_detail.html",
        {
            "complaint": complaint,
            "deadlines": _deadline_rows(complaint),
            "breaches": breaches,
            "pauses": list(complaint.pauses.all()),
            "timeline": selectors.complaint_timeline(complaint, breaches),
            "transitions": services.allowed_transitions(complaint),
            "inform_form": InformForm(initial={"language": "ru"}),
            "can_inform": complaint.status
            in (Complaint.Status.RESOLVED, Complaint.Status.PROCESS_FIXED),
        },
    )


@login_required
def complaint_edit(request, pk):
    complaint = _complaint(request, pk)
    form = ComplaintEditForm(request.POST or None, instance=complaint)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            # a fresh copy: validating the ModelForm already wrote the new values onto
            # ``complaint``, and the service audits the difference from what is stored
            services.complaint_update(
                actor=request.user, complaint=_complaint(request, pk), data=data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Complaint saved."))
            return HttpResponseRedirect(reverse("feedback:detail", kwargs={"pk": pk}))
    return render(request, "feedback/complaint_edit.html", {"form": form, "complaint": complaint})


@login_required
def complaint_step(request, pk, action):
    complaint = _complaint(request, pk)
    step = services.TRANSITIONS.get(action)
    if step is None:
        raise Http404(_("Not found."))
    form_class = transition_form_class(step.fields)
    form = form_class(request.POST if request.method == "POST" else None, instance=complaint)
    if request.method == "POST" and form.is_valid():
        try:
            services.complaint_transition(
                actor=request.user, complaint=complaint, action=action, data=form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            if request.POST.get("from") == "board":
                for message in exc.messages:
                    messages.error(request, message)
            if request.POST.get("from") == "board":
                return HttpResponseRedirect(reverse("feedback:board"))
        else:
            messages.success(
                request,
                _("Complaint #%(n)s: %(step)s — done.") % {"n": complaint.pk, "step": step.label},
            )
            if request.POST.get("from") == "board":
                return HttpResponseRedirect(reverse("feedback:board"))
            return HttpResponseRedirect(reverse("feedback:detail", kwargs={"pk": pk}))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "feedback/complaint_step.html",
        {"form": form, "complaint": complaint, "step": step},
        status=status,
    )


@login_required
@require_POST
def complaint_inform(request, pk):
    complaint = _complaint(request, pk)
    form = InformForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the client was informed."))
    else:
        try:
            services.complaint_inform_client(
                actor=request.user,
                complaint=complaint,
                via=form.cleaned_data["via"],
                send_email=form.cleaned_data["send_email"],
                language=form.cleaned_data["language"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Recorded: the client is informed."))
    return HttpResponseRedirect(reverse("feedback:detail", kwargs={"pk": pk}))


def _period(request):
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    date_from = today.replace(day=1) - timedelta(days=334)
    date_from = date_from.replace(day=1)
    date_to = today
    if request.GET and form.is_valid():
        date_from = form.cleaned_data["date_from"] or date_from
        date_to = form.cleaned_data["date_to"] or date_to
    elif not request.GET:
        form = PeriodForm(initial={"date_from": date_from, "date_to": date_to})
    tz = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    return form, start, end, date_from, date_to


@login_required
def complaint_analytics(request):
    form, start, end, date_from, date_to = _period(request)
    qs = selectors.complaints_for(request.user).filter(
        registered_at__gte=start, registered_at__lt=end
    )
    scope = _cache_scope(request.user)
    summary = analytics.cached_summary(qs, scope=scope, start=start, end=end)
    themes = {t.pk: t.name for t in Theme.objects.all()}
    causes = dict(Complaint.RootCause.choices)
    return render(
        request,
        "feedback/analytics.html",
        {
            "form": form,
            "s": summary,
            "date_from": date_from,
            "date_to": date_to,
            "by_theme": [(themes.get(t, "?"), n) for t, n in summary.by_theme],
            "root_causes": [(causes.get(c, c), n) for c, n in summary.top_root_causes],
            "chart": {
                "months": [date_format(m, "YEAR_MONTH_FORMAT") for m, _n in summary.by_month],
                "counts": [n for _m, n in summary.by_month],
                "themes": [themes.get(t, "?") for t, _n in summary.by_theme],
                "theme_counts": [n for _t, n in summary.by_theme],
            },
        },
    )


@manager_required
def sla_settings(request):
    instance = selectors.sla_settings()
    form = SlaSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            sla.sla_settings_update(actor=request.user, data=form.to_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("SLA settings saved."))
            return HttpResponseRedirect(reverse("feedback:settings"))
    return render(
        request,
        "feedback/settings.html",
        {"form": form, "priorities": Priority.choices},
        status=400 if request.method == "POST" else 200,
    )


@manager_required
def theme_list(request):
    return render(request, "feedback/themes.html", {"themes": Theme.objects.all()})


@manager_required
def theme_edit(request, pk=None):
    theme = get_object_or_404(Theme, pk=pk) if pk else Theme()
    form = ThemeForm(request.POST or None, instance=theme)
    if request.method == "POST" and form.is_valid():
        services.theme_save(actor=request.user, theme=form.save(commit=False))
        messages.success(request, _("Theme saved."))
        return HttpResponseRedirect(reverse("feedback:themes"))
    return render(request, "feedback/theme_form.html", {"form": form, "theme": theme})


@login_required
def notices(request):
    if request.method == "POST":
        services.notices_mark_read(user=request.user)
        return HttpResponseRedirect(reverse("feedback:notices"))
    page = Paginator(selectors.notices_for(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "feedback/notices.html", {"page": page})
