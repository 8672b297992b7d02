"""Managers' pages of the pipeline: pipelines with their stages, refusal categories, the sales
settings (account managers get 404)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from crm.access import manager_required
from crm.forms import add_service_errors
from sales import configuration
from sales.forms import (
    PipelineForm,
    RefusalForm,
    SalesSettingsForm,
    StageFormSet,
    stage_rows,
)
from sales.models import Pipeline, RefusalCategory, SalesSettings


@manager_required
def pipeline_list(request):
    pipelines = Pipeline.objects.prefetch_related("stages").order_by("order", "id")
    return render(request, "sales/pipelines.html", {"pipelines": pipelines})


@manager_required
def pipeline_edit(request, pk=None):
    pipeline = get_object_or_404(Pipeline, pk=pk) if pk else Pipeline()
    form = PipelineForm(request.POST or None, instance=pipeline)
    stages = StageFormSet(
        request.POST or None,
        instance=pipeline if pk else Pipeline(),
        prefix="stages",
        queryset=pipeline.stages.order_by("order", "id") if pk else None,
    )
    if request.method == "POST" and form.is_valid() and stages.is_valid():
        data = {name: form.cleaned_data[name] for name in configuration.PIPELINE_FIELDS}
        try:
            saved = configuration.pipeline_save(
                actor=request.user,
                data=data,
                stages=stage_rows(stages),
                pipeline=Pipeline.objects.get(pk=pk) if pk else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pipeline %(p)s saved.") % {"p": saved})
            return HttpResponseRedirect(reverse("sales:pipelines"))
    return render(
        request,
        "sales/pipeline_form.html",
        {"form": form, "stages": stages, "pipeline": pipeline if pk else None},
        status=400 if request.method == "POST" else 200,
    )


@manager_required
def refusal_list(request):
    return render(
        request, "sales/refusals.html", {"refusals": RefusalCategory.objects.order_by("order")}
    )


@manager_required
def refusal_edit(request, pk=None):
    refusal = get_object_or_404(RefusalCategory, pk=pk) if pk else RefusalCategory()
    form = RefusalForm(request.POST or None, instance=refusal)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in configuration.REFUSAL_FIELDS}
        try:
            configuration.refusal_save(
                actor=request.user,
                data=data,
                refusal=RefusalCategory.objects.get(pk=pk) if pk else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Refusal category saved."))
            return HttpResponseRedirect(reverse("sales:refusals"))
    return render(
        request,
        "sales/refusal_form.html",
        {"form": form, "refusal": refusal if pk else None},
        status=400 if request.method == "POST" else 200,
    )


@manager_required
def sales_settings(request):
    form = SalesSettingsForm(request.POST or None, instance=SalesSettings.load())
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in configuration.SETTINGS_FIELDS}
        try:
            configuration.sales_settings_update(actor=request.user, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Sales settings saved."))
            return HttpResponseRedirect(reverse("sales:settings"))
    return render(
        request,
        "sales/settings.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
