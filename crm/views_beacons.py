"""Beacon pages (crm/beacons.py): the rules with their state, a rule's form with the 12-month
preview, a rule's history. Managers edit; an account manager sees the rules of their own
scope (read only); anything else is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import beacons
from crm import dashboard as kpi
from crm.access import manager_required
from crm.forms import BeaconRuleForm
from crm.models import BeaconEvent, BeaconNotice, BeaconRule, BeaconState


@login_required
def beacon_list(request):
    last = BeaconEvent.objects.filter(rule=OuterRef("pk")).order_by("-at", "-id")
    rules = (
        beacons.visible_rules(request.user)
        .select_related("state", "scope_account_manager")
        .annotate(
            last_at=Subquery(last.values("at")[:1]), last_to=Subquery(last.values("to_state")[:1])
        )
        .order_by("name", "id")
    )
    labels = {k: m.label for k, m in kpi.metrics().items()}
    rows = [(rule, labels.get(rule.metric, rule.metric)) for rule in rules]
    return render(
        request,
        "crm/beacons.html",
        {"rows": rows, "firing": BeaconState.State.FIRING},
    )


@login_required
def beacon_notices(request):
    """The viewer's own beacon notices, newest first; opening the page marks them read."""
    notices = BeaconNotice.objects.filter(recipient=request.user).select_related("event__rule")
    page = Paginator(notices, 50).get_page(request.GET.get("page"))
    unread = {n.pk for n in page if n.read_at is None}
    if unread:  # read before the page is drawn: the navigation's bell has no badge for them
        BeaconNotice.objects.filter(pk__in=unread).update(read_at=timezone.now())
    return render(request, "crm/beacon_notices.html", {"page": page, "unread": unread})


@login_required
def beacon_detail(request, pk):
    rule = get_object_or_404(beacons.visible_rules(request.user).select_related("state"), pk=pk)
    page = Paginator(rule.events.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    label = kpi.metrics().get(rule.metric)
    return render(
        request,
        "crm/beacon_detail.html",
        {"rule": rule, "page": page, "metric": label.label if label else rule.metric},
    )


@manager_required
def beacon_edit(request, pk=None):
    rule = get_object_or_404(BeaconRule, pk=pk) if pk else BeaconRule()
    form = BeaconRuleForm(request.POST or None, instance=rule)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            candidate = form.save(commit=False)
            preview = beacons.preview(candidate, timezone.localdate())
        else:
            rule = form.save()
            BeaconState.objects.get_or_create(rule=rule)
            messages.success(request, _("Beacon rule saved."))
            return HttpResponseRedirect(reverse("beacon_detail", args=[rule.pk]))
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "crm/beacon_form.html",
        {"form": form, "rule": rule, "preview": preview},
        status=status,
    )
