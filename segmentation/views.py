"""Pages: the ABC×XYZ matrix, lifecycle, class changes, what-if, settings and the run log."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import manager_required
from crm.filters import filter_errors, filtered
from crm.forms import add_service_errors
from segmentation import selectors, services
from segmentation.filters import ClassChangeFilter
from segmentation.forms import PeriodForm, SettingsForm, WhatIfForm
from segmentation.models import SegmentationRun


@login_required
def matrix(request):
    context = selectors.matrix_for_user(request.user)
    context["active_run"] = selectors.active_run() if request.user.sees_everything else None
    context["lifecycle_rows"] = _lifecycle_rows(context["lifecycle"])
    return render(request, "segmentation/matrix.html", context)


def _lifecycle_rows(counts: dict) -> list[dict]:
    from segmentation.models import Lifecycle

    return [
        {
            "key": key,
            "label": label,
            "clients": counts.get(key, 0),
            "url": selectors.client_list_url(lifecycle=key),
        }
        for key, label in Lifecycle.choices
    ]


@login_required
def lifecycle(request):
    form = PeriodForm(request.GET or None)
    start, end = form.period()
    counts = selectors.lifecycle_counts(request.user)
    return render(
        request,
        "segmentation/lifecycle.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "rows": _lifecycle_rows(counts),
            "flows": selectors.lifecycle_flows(request.user, start, end),
            "report": selectors.changes_report(request.user, start, end),
        },
    )


@login_required
def changes(request):
    filterset = ClassChangeFilter(
        request.GET,
        queryset=selectors.history_for_user(request.user),
        user=request.user,
        default_period=True,
    )
    start, end = filterset.period()
    qs = filtered(filterset)
    if not filterset.is_valid():  # nothing of it applies; the page still shows one period
        qs = qs.filter(date__gte=start, date__lte=end)
    kind = (filterset.form.cleaned_data.get("kind") or "") if filterset.is_valid() else ""
    page = Paginator(qs.order_by("-date", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "segmentation/changes.html",
        {
            "start": start,
            "end": end,
            "kind": kind,
            "page": page,
            "query": urlencode(
                {"start": start, "end": end, "kind": kind}
                | {k: v for k in ("account_manager", "segment") if (v := request.GET.get(k))}
            ),
            "period_query": urlencode({"start": start, "end": end}),
            "filter_errors": filter_errors(filterset),
            "report": selectors.changes_report(request.user, start, end),
        },
    )


@manager_required
def what_if(request):
    """GET: the form with the current thresholds and the current matrix. With values: the
    preview (an htmx request gets only the preview block). POST: save the thresholds."""
    if request.method == "POST":
        form = WhatIfForm(request.POST, instance=selectors.settings_load())
        if form.is_valid():
            try:
                services.settings_update(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Thresholds saved. Recompute to apply them to the clients."),
                )
                return redirect("segmentation:runs")
    else:
        form = WhatIfForm(request.GET or None, instance=selectors.settings_load())
    preview = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        preview = selectors.what_if(
            basis=data["abc_basis"],
            abc_a_pct=data["abc_a_pct"],
            abc_b_pct=data["abc_b_pct"],
            xyz_x_pct=data["xyz_x_pct"],
            xyz_y_pct=data["xyz_y_pct"],
        )
    context = {
        "form": form,
        "preview": preview,
        # "now": the matrix as the last run classified the clients
        "current": selectors.matrix_for_user(request.user),
    }
    if request.headers.get("HX-Request"):
        return render(request, "segmentation/_what_if_preview.html", context)
    return render(request, "segmentation/what_if.html", context)


@manager_required
def settings_page(request):
    instance = selectors.settings_load()
    if request.method == "POST":
        data = request.POST.copy()
        preset = data.get("preset")
        if preset in selectors.PRESETS:
            data["abc_a_pct"], data["abc_b_pct"] = selectors.PRESETS[preset]
        form = SettingsForm(data, instance=instance)
        if form.is_valid():
            try:
                services.settings_update(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Segmentation settings saved."))
                return redirect("segmentation:settings")
    else:
        form = SettingsForm(instance=instance)
    return render(request, "segmentation/settings.html", {"form": form, "settings_obj": instance})


@manager_required
def runs(request):
    page = Paginator(selectors.runs(), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "segmentation/runs.html",
        {"page": page, "active_run": selectors.active_run()},
    )


@manager_required
@require_POST
def run_start(request):
    try:
        run = services.run_start(actor=request.user)
    except services.RunRefused as exc:
        messages.warning(request, str(exc))
    else:
        if services.run_waiting_for_queue(run):
            messages.warning(
                request,
                _(
                    "Recompute #%(id)s is queued: the background queue cannot be reached right "
                    "now, so it starts as soon as the queue is back."
                )
                % {"id": run.pk},
            )
        else:
            messages.info(request, _("Recompute #%(id)s started.") % {"id": run.pk})
    return redirect("segmentation:runs")


@manager_required
def run_progress(request, pk: int):
    run = get_object_or_404(SegmentationRun.objects.defer("summary"), pk=pk)
    return render(request, "segmentation/_run_progress.html", {"run": run})
