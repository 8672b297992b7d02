"""Deal pages: the list (``/sales/``) with its filters and totals, a new deal (also from the
client card), edit, and the detail page with its stage log and steps (move, win, lose,
reopen), each of which works without JavaScript."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from clients.models import Client
from crm.access import get_for_user
from crm.filters import filter_errors, filtered
from crm.forms import add_service_errors
from sales import selectors, services
from sales.filters import DealFilterSet
from sales.forms import STEP_FORMS, DealForm, LineFormSet, line_initial
from sales.models import Deal

PAGE_SIZE = 25


@login_required
def deal_list(request):
    filterset = DealFilterSet(
        request.GET or None, queryset=selectors.deal_list(request.user), user=request.user
    )
    qs = filtered(filterset)
    totals = selectors.deal_totals(qs)
    paginator = Paginator(qs, PAGE_SIZE)
    # the totals query counted the rows already: the pager need not count them again
    paginator.count = totals.count
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sales/deal_list.html",
        {
            "form": filterset.form,
            "filter_errors": filter_errors(filterset),
            "page": page,
            "totals": totals,
            "query": query.urlencode(),
        },
    )


def _deal(request, pk) -> Deal:
    return selectors.deal_detail(request.user, pk)


def _detail_url(deal) -> str:
    return reverse("sales:detail", kwargs={"pk": deal.pk})


@login_required
def deal_create(request):
    client = None
    if request.GET.get("client"):
        client = get_for_user(Client.objects.all(), request.user, pk=request.GET["client"])
    form = DealForm(request.POST or None, user=request.user, client=client)
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = form.service_data()
        try:
            deal = services.deal_create(
                actor=request.user,
                client=form.cleaned_data["client"],
                pipeline=form.cleaned_data["pipeline"],
                contact=data.pop("contact"),
                owner=data.pop("owner"),
                lines=lines.lines(),
                data=data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal %(deal)s opened.") % {"deal": deal})
            return HttpResponseRedirect(_detail_url(deal))
    return render(
        request,
        "sales/deal_form.html",
        {"form": form, "lines": lines, "client": client, "deal": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def deal_edit(request, pk):
    deal = _deal(request, pk)
    form = DealForm(request.POST or None, instance=deal, user=request.user)
    lines = LineFormSet(request.POST or None, prefix="lines", initial=line_initial(deal))
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = form.service_data()
        if not data["sale_type"]:
            data["sale_type"] = deal.sale_type_derived
        try:
            # a fresh copy: the ModelForm wrote the new values onto ``deal`` already
            services.deal_update(
                actor=request.user,
                deal=_deal(request, pk),
                data=data,
                lines=lines.lines() if lines.has_changed() else None,
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal saved."))
            return HttpResponseRedirect(_detail_url(deal))
    return render(
        request,
        "sales/deal_form.html",
        {"form": form, "lines": lines, "client": deal.client, "deal": deal},
        status=400 if request.method == "POST" else 200,
    )


CONTROL_DATES = [
    "proposal_valid_until",
    "invoice_due",
    "delivery_date",
    "survey_date",
    "protocol_sent_on",
]


def time_in_stage(seconds: int | None) -> str:
    """``3 d 4 h`` / ``5 h 10 min`` / ``2 min``."""
    if seconds is None:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


def _detail_context(deal, forms: dict | None = None) -> dict:
    forms = forms or {}
    today = timezone.localdate()
    control = []
    for name in CONTROL_DATES:
        value = getattr(deal, name)
        overdue = bool(value and deal.is_open and name != "protocol_sent_on" and value < today)
        control.append(
            {
                "name": name,
                "label": Deal._meta.get_field(name).verbose_name,
                "value": value,
                "overdue": overdue,
            }
        )
    steps = {}
    if deal.is_open:
        for name in ("move", "win", "lose"):
            steps[name] = forms.get(name) or STEP_FORMS[name](deal=deal)
    else:
        steps["reopen"] = forms.get("reopen") or STEP_FORMS["reopen"](deal=deal)
    log = selectors.stage_log(deal)
    for entry in log:
        entry.time_in_previous = time_in_stage(entry.seconds_in_previous)
    return {
        "deal": deal,
        "lines": list(deal.lines.select_related("product", "product__line")),
        "log": log,
        "control": control,
        "steps": steps,
    }


@login_required
def deal_detail(request, pk):
    deal = _deal(request, pk)
    return render(request, "sales/deal_detail.html", _detail_context(deal))


@login_required
@require_POST
def deal_step(request, pk, action):
    deal = _deal(request, pk)
    form_class = STEP_FORMS.get(action)
    if form_class is None:
        raise Http404(_("Not found."))
    form = form_class(request.POST, deal=deal)
    if form.is_valid():
        data = form.cleaned_data
        version = data.get("version")
        try:
            if action == "move":
                services.deal_move(
                    actor=request.user, deal=deal, stage=data["stage"], expected_version=version
                )
            elif action == "win":
                services.deal_win(actor=request.user, deal=deal, expected_version=version)
            elif action == "lose":
                services.deal_lose(
                    actor=request.user,
                    deal=deal,
                    refusal=data.get("refusal"),
                    note=data.get("refusal_note") or "",
                    expected_version=version,
                )
            else:
                services.deal_reopen(
                    actor=request.user,
                    deal=deal,
                    stage=data.get("stage"),
                    expected_version=version,
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, STEP_DONE[action])
            return HttpResponseRedirect(_detail_url(deal))
    deal = _deal(request, pk)  # as stored: nothing was saved
    return render(
        request,
        "sales/deal_detail.html",
        _detail_context(deal, {action: form})
        | {"failed_step": action, "step_errors": [m for ms in form.errors.values() for m in ms]},
        status=400,
    )


STEP_DONE = {
    "move": gettext_lazy("Deal moved."),
    "win": gettext_lazy("Deal won."),
    "lose": gettext_lazy("Deal closed as lost."),
    "reopen": gettext_lazy("Deal reopened."),
}
