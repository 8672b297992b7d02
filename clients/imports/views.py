"""Import (upload, progress, error report, templates) and export of the client list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.filters import ClientFilter
from clients.imports import exports, limits, rules
from clients.imports.forms import ImportForm
from clients.imports.jobs import (
    import_job_cancel,
    import_job_retry,
    import_job_submit,
    import_job_waiting_for_queue,
    import_report_rows,
)
from clients.models import Client, ImportJob
from crm.access import get_for_user, scope_for_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def _download(rows, *, fmt: str, name: str):
    """A CSV (streamed) or XLSX (written row by row) attachment of ``rows``."""
    if fmt == "xlsx":
        return FileResponse(
            exports.xlsx_file(rows, title=name),
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type=XLSX,
        )
    response = StreamingHttpResponse(
        exports.csv_lines(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"kind": request.GET.get("kind", ImportJob.Kind.CLIENTS)},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_job_submit(
            user=request.user,
            kind=form.cleaned_data["kind"],
            mode=form.cleaned_data["mode"],
            file_name=upload.name,
            data=upload.read(),
        )
        return redirect("clients:import_job", pk=job.pk)
    jobs = scope_for_user(ImportJob.objects.select_related("user"), request.user)[:10]
    context = {
        "form": form,
        "jobs": jobs,
        "kinds": [
            (kind, label, list(rules.COLUMNS[kind].items()), rules.REQUIRED[kind])
            for kind, label in ImportJob.Kind.choices
        ],
        "max_rows": limits.max_rows(),
        "max_mb": limits.max_bytes() // (1024 * 1024),
    }
    return render(request, "clients/import.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def import_job(request, pk: int):
    job = get_for_user(ImportJob.objects.select_related("user"), request.user, pk=pk)
    template = (
        "clients/_import_progress.html"
        if request.headers.get("HX-Request")
        else ("clients/import_job.html")
    )
    return render(
        request, template, {"job": job, "waiting_for_queue": import_job_waiting_for_queue(job)}
    )


@login_required
@require_POST
def import_job_retry_view(request, pk: int):
    job = get_for_user(ImportJob.objects.select_related("user"), request.user, pk=pk)
    try:
        job = import_job_retry(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The import was queued again."))
    return redirect("clients:import_job", pk=job.pk)


@login_required
@require_POST
def import_job_cancel_view(request, pk: int):
    job = get_for_user(ImportJob.objects.select_related("user"), request.user, pk=pk)
    try:
        import_job_cancel(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("clients:import_job", pk=job.pk)


@login_required
@require_GET
def import_report(request, pk: int):
    job = get_for_user(ImportJob.objects.all(), request.user, pk=pk)
    if not job.error_report:
        raise Http404(_("Not found."))
    fmt = request.GET.get("format", "csv")
    name = f"import-{job.pk}-errors"
    if fmt == "xlsx":
        return _download(import_report_rows(job), fmt="xlsx", name=name)
    response = FileResponse(job.error_report.open("rb"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
@require_GET
def import_template(request, kind: str, fmt: str):
    if kind not in rules.COLUMNS or fmt not in FORMATS:
        raise Http404(_("Not found."))
    return _download([list(rules.COLUMNS[kind])], fmt=fmt, name=f"{kind}-template")


@login_required
@require_GET
def export(request):
    """The client list as filtered on the list page, only the rows the user may see."""
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponse(_("Unknown format."), status=400, content_type="text/plain")
    user = request.user
    if not user.sees_everything and request.GET.get("am") not in (None, "", str(user.pk)):
        # an account manager asking for another manager's clients: as for any outsider, 404
        raise Http404(_("Not found."))
    queryset = scope_for_user(Client.objects.all(), user)
    filterset = ClientFilter(request.GET, queryset=queryset, user=user)
    if not filterset.is_valid():  # never export a half-applied filter set
        problems = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in filterset.errors.items())
        return HttpResponse(
            _("The filters are not valid: %(problems)s") % {"problems": problems},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    queryset = filterset.qs
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _download(exports.client_export_rows(queryset), fmt=fmt, name=f"clients-{stamp}")
