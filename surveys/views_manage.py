"""The staff pages of surveys: questionnaires (managers edit, account managers read), campaigns
with their progress, the audience preview and the launch, and the survey settings. Managers
write; account managers read, and where invitation rows are listed see only their clients'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from crm.access import manager_required
from crm.filters import filter_errors, filtered
from crm.forms import add_service_errors
from surveys import selectors, services
from surveys.manage_forms import (
    AudienceForm,
    CampaignFilter,
    CampaignForm,
    ItemFormSet,
    QuestionnaireForm,
    SurveySettingsForm,
    item_rows,
)
from surveys.models import Campaign, Questionnaire

PAGE_SIZE = 25


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _answers_url() -> str:
    try:
        return reverse("survey_analytics:answers")
    except NoReverseMatch:
        return ""


# Questionnaires


@login_required
def questionnaire_list(request):
    rows = Questionnaire.objects.prefetch_related("items").order_by("-is_active", "title_en", "id")
    return render(request, "surveys/manage/questionnaires.html", {"questionnaires": rows})


@login_required
def questionnaire_detail(request, pk):
    questionnaire = get_object_or_404(Questionnaire, pk=pk)
    items = questionnaire.items.select_related("product_line")
    return render(
        request,
        "surveys/manage/questionnaire_detail.html",
        {"questionnaire": questionnaire, "items": items},
    )


@manager_required
def questionnaire_edit(request, pk=None):
    questionnaire = get_object_or_404(Questionnaire, pk=pk) if pk else None
    form = QuestionnaireForm(request.POST or None, instance=questionnaire)
    formset = ItemFormSet(request.POST or None, instance=questionnaire, prefix="items")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            saved = services.questionnaire_save(
                actor=request.user,
                data=data,
                items=item_rows(formset),
                questionnaire=questionnaire,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Questionnaire saved."))
            return HttpResponseRedirect(reverse("survey_manage:questionnaire", args=[saved.pk]))
    return render(
        request,
        "surveys/manage/questionnaire_form.html",
        {"form": form, "formset": formset, "questionnaire": questionnaire},
        status=400 if request.method == "POST" else 200,
    )


# Campaigns


@login_required
def campaign_list(request):
    filterset = CampaignFilter(
        request.GET or None,
        queryset=Campaign.objects.select_related("questionnaire"),
        user=request.user,
    )
    page = Paginator(filtered(filterset), PAGE_SIZE).get_page(request.GET.get("page"))
    progress = selectors.campaigns_progress([c.pk for c in page])
    rows = [(c, progress[c.pk]) for c in page]
    return render(
        request,
        "surveys/manage/campaigns.html",
        {
            "page": page,
            "rows": rows,
            "filterset": filterset,
            "filter_errors": filter_errors(filterset),
            "query": _query_without_page(request),
        },
    )


@login_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("questionnaire"), pk=pk)
    progress = selectors.campaign_progress(campaign)
    page = Paginator(selectors.campaign_invitations(campaign, request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    preview = None
    if (
        request.user.sees_everything
        and campaign.trigger == Campaign.Trigger.MANUAL
        and campaign.status != Campaign.Status.FINISHED
    ):
        preview = selectors.audience(campaign).count()
    return render(
        request,
        "surveys/manage/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "page": page,
            "query": _query_without_page(request),
            "preview": preview,
            "filters": _filter_labels(campaign),
            "anonymous_unhappy": selectors.anonymous_unhappy(campaign=campaign)
            if campaign.anonymous
            else None,
            "answers_url": _answers_url(),
        },
    )


def _filter_labels(campaign: Campaign) -> list[tuple[str, str]]:
    """The campaign's audience filters as (label, values) for people."""
    form = CampaignForm(campaign=campaign)
    labels = []
    for name in CampaignForm.AUDIENCE:
        value = form.initial.get(name)
        if value in (None, "", []):
            continue
        field = form.fields[name]
        if name == "account_manager":
            shown = ", ".join(str(u) for u in field.queryset.filter(pk=value))
        elif name == "not_surveyed_months":
            shown = str(value)
        elif hasattr(field, "queryset"):
            shown = ", ".join(str(o) for o in field.queryset.filter(pk__in=value))
        else:
            choices = dict(field.choices)
            shown = ", ".join(str(choices.get(v, v)) for v in value)
        labels.append((field.label, shown))
    return labels


@manager_required
def campaign_edit(request, pk=None):
    campaign = get_object_or_404(Campaign, pk=pk) if pk else None
    form = CampaignForm(request.POST or None, campaign=campaign)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:  # without JavaScript: the count, nothing saved
            preview = _count(form)
        else:
            try:
                saved = services.campaign_save(
                    actor=request.user, data=form.to_data(), campaign=campaign
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Campaign saved."))
                return HttpResponseRedirect(reverse("survey_manage:campaign", args=[saved.pk]))
    return render(
        request,
        "surveys/manage/campaign_form.html",
        {"form": form, "campaign": campaign, "preview": preview},
        status=400 if request.method == "POST" and form.errors else 200,
    )


def _count(form) -> dict:
    try:
        filters = services.clean_filters(form.audience_filters())
    except ValidationError as exc:
        return {"error": " ".join(exc.messages)}
    return {"count": selectors.audience(Campaign(filters=filters)).count()}


@manager_required
@require_GET
def audience_preview(request):
    """The htmx partial of the campaign form: how many contacts the filters invite now."""
    form = AudienceForm(request.GET)
    preview = _count(form) if form.is_valid() else {"error": _("Check the audience filters.")}
    return render(request, "surveys/manage/_audience_preview.html", {"preview": preview})


@manager_required
def campaign_launch(request, pk):
    """GET: the confirmation with the audience's count; POST: launch (the service invites and
    queues the emails after the commit)."""
    campaign = get_object_or_404(Campaign.objects.select_related("questionnaire"), pk=pk)
    error = None
    if request.method == "POST":
        try:
            count = services.campaign_launch(actor=request.user, campaign=campaign)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                ngettext(
                    "The campaign was launched: %(n)s invitation is being sent.",
                    "The campaign was launched: %(n)s invitations are being sent.",
                    count,
                )
                % {"n": count},
            )
            return HttpResponseRedirect(reverse("survey_manage:campaign", args=[campaign.pk]))
    count = None
    if campaign.trigger == Campaign.Trigger.MANUAL:
        count = selectors.audience(campaign).count()
    return render(
        request,
        "surveys/manage/campaign_launch.html",
        {"campaign": campaign, "count": count, "error": error},
        status=400 if error else 200,
    )


# Settings


@manager_required
def survey_settings(request):
    instance = selectors.survey_settings()
    form = SurveySettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_settings_update(actor=request.user, data=form.to_data())
        except ValidationError as exc:
            if "quiet_days_by_class" in getattr(exc, "error_dict", {}):
                exc = ValidationError({"quiet_a": exc.error_dict["quiet_days_by_class"]})
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Survey settings saved."))
            return HttpResponseRedirect(reverse("survey_manage:settings"))
    return render(
        request,
        "surveys/manage/settings.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
