"""Pages of the client base. Views parse input, call a service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients import selectors, services
from clients.extensions import card_actions, card_panels
from clients.filters import ClientFilter, SettlementFilter
from clients.forms import (
    ClientForm,
    ContactForm,
    InteractionForm,
    ProductForm,
    ProductLineForm,
    SettlementForm,
    TargetSegmentForm,
)
from clients.models import Client, ContactPerson, Interaction, Product, ProductLine, TargetSegment
from crm.access import get_for_user, require_manager
from crm.filters import filter_errors, filtered
from crm.forms import add_service_errors

PAGE_SIZE = 50
# A search's matches are counted up to this many and only these are paged ("more than …"):
# counting every match of a common word among a million names reads every one of them.
SEARCH_COUNT_CAP = 1000


@login_required
def client_list(request):
    filterset = ClientFilter(
        request.GET or None, queryset=selectors.client_list(request.user), user=request.user
    )
    # Client.Meta orders by name; the filter's "sort" overrides it. Invalid filters are ignored
    # (and reported on the page), not half-applied.
    queryset = filtered(filterset)
    page = filterset.extension_page(queryset, request.GET.get("page"), PAGE_SIZE)
    if page is None:
        # the exact total without counting the list when it is known more cheaply: all clients
        # (the tally the database keeps) or an extension's (segmentation: its class tally)
        whole_base = filterset.is_whole_base()
        page = selectors.paginate_clients(
            queryset,
            request.GET.get("page"),
            PAGE_SIZE,
            total=selectors.client_total() if whole_base else filterset.total_from_extensions(),
            cap=SEARCH_COUNT_CAP if filterset.is_search() else None,
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clients/list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "filter_errors": filter_errors(filterset),
            "today": timezone.localdate(),
        },
    )


@login_required
def client_detail(request, pk: int):
    client = get_for_user(
        Client.objects.select_related(
            "account_manager",
            "target_segment",
            "parent",
            "next_step_product",
            *selectors.card_related(),
        ),
        request.user,
        pk=pk,
    )
    card = selectors.client_card(client, request.user)
    return render(
        request,
        "clients/detail.html",
        {
            "card": card,
            "client": client,
            "interaction_form": InteractionForm(client=client),
            "actions": card_actions(client, request.user),
            "panels": card_panels(client, request.user),
            "tags": list(client.tags.all()),
        },
    )


@login_required
def client_create(request):
    form = ClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                actor=request.user, data=form.data_for_service(), tags=form.tags()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Client created."))
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/form.html", {"form": form, "title": _("New client")})


@login_required
def client_edit(request, pk: int):
    client = get_for_user(Client.objects.all(), request.user, pk=pk)
    form = ClientForm(request.POST or None, instance=client, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                actor=request.user, client=client, data=form.data_for_service(), tags=form.tags()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Client saved."))
            return redirect("clients:detail", pk=client.pk)
    return render(
        request, "clients/form.html", {"form": form, "client": client, "title": _("Edit client")}
    )


@login_required
def contact_edit(request, pk: int, contact_pk: int | None = None):
    client = get_for_user(Client.objects.all(), request.user, pk=pk)
    contact = (
        get_for_user(ContactPerson.objects.filter(client=client), request.user, pk=contact_pk)
        if contact_pk
        else None
    )
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_save(
                actor=request.user, client=client, contact=contact, data=form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact person saved."))
            return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/form.html",
        {
            "form": form,
            "client": client,
            "title": _("Edit contact person") if contact else _("New contact person"),
        },
    )


@login_required
def settlement_create(request, pk: int):
    client = get_for_user(Client.objects.all(), request.user, pk=pk)
    form = SettlementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.settlement_record(actor=request.user, client=client, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Settlement recorded."))
            return redirect("clients:detail", pk=client.pk)
    return render(
        request, "clients/form.html", {"form": form, "client": client, "title": _("New settlement")}
    )


@login_required
def interaction_log(request, pk: int):
    """Log a contact from the card. With htmx: returns the refreshed log panel in place."""
    client = get_for_user(Client.objects.select_related("next_step_product"), request.user, pk=pk)
    form = InteractionForm(request.POST or None, client=client)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            services.interaction_log(actor=request.user, client=client, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            saved = True
            form = InteractionForm(client=client)
    if not request.headers.get("HX-Request"):
        if saved:
            messages.success(request, _("Contact logged."))
            return redirect("clients:detail", pk=client.pk)
        return render(
            request,
            "clients/form.html",
            {"form": form, "client": client, "title": _("Log a contact")},
        )
    card = selectors.client_log(client, request.user)  # all the panel shows
    response = render(
        request,
        "clients/_log_panel.html",
        {"card": card, "client": client, "interaction_form": form, "saved": saved},
    )
    if saved:
        response["HX-Trigger"] = "contactLogged"
    return response


@login_required
@require_POST
def promise_kept(request, pk: int, interaction_pk: int):
    interaction = get_for_user(
        Interaction.objects.filter(client_id=pk), request.user, pk=interaction_pk
    )
    try:
        services.interaction_promise_kept(actor=request.user, interaction=interaction)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.headers.get("HX-Request"):
        return HttpResponse(_("Kept"))
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("clients:detail", pk=pk)


@login_required
@require_POST
def next_step_done(request, pk: int):
    client = get_for_user(Client.objects.all(), request.user, pk=pk)
    services.client_next_step_done(actor=request.user, client=client)
    messages.success(
        request, _("Next step marked as done. Plan the next one when you log the contact.")
    )
    return redirect("clients:detail", pk=pk)


@login_required
def settlement_list(request):
    """Settlements the user may see, filtered (the dashboard's revenue links here): their
    number and sum, then the rows newest first."""
    filterset = SettlementFilter(
        request.GET or None, queryset=selectors.settlement_list(request.user), user=request.user
    )
    queryset = filtered(filterset)
    totals = queryset.order_by().aggregate(n=Count("id"), total=Sum("amount"))
    paginator = Paginator(queryset, PAGE_SIZE)
    paginator.count = totals["n"]  # counted with the sum above
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clients/settlement_list.html",
        {
            "filter": filterset,
            "page": paginator.get_page(request.GET.get("page")),
            "total": totals["total"] or 0,
            "query": query.urlencode(),
            "filter_errors": filter_errors(filterset),
        },
    )


@login_required
def my_day(request):
    return render(request, "clients/my_day.html", {"day": selectors.my_day(request.user)})


# --- catalogue: products, product lines, target segments (managers edit, everyone reads) ----
@login_required
def catalogue(request):
    lines = ProductLine.objects.prefetch_related("products").order_by("name")
    segments = selectors.target_segments_with_counts(request.user)
    return render(request, "clients/catalogue.html", {"lines": lines, "segments": segments})


def _catalogue_form(request, form_class, instance, save, title, *, arg, m2m=None):
    require_manager(request.user)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        extra = {m2m: data.pop(m2m)} if m2m else {}
        try:
            save(actor=request.user, data=data, **{arg: instance}, **extra)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("clients:catalogue")
    return render(request, "clients/form.html", {"form": form, "title": title})


@login_required
def product_line_edit(request, pk: int | None = None):
    line = get_object_or_404(ProductLine, pk=pk) if pk else None
    return _catalogue_form(
        request, ProductLineForm, line, services.product_line_save, _("Product line"), arg="line"
    )


@login_required
def product_edit(request, pk: int | None = None):
    product = get_object_or_404(Product, pk=pk) if pk else None
    return _catalogue_form(
        request, ProductForm, product, services.product_save, _("Product"), arg="product"
    )


@login_required
def segment_edit(request, pk: int | None = None):
    segment = get_object_or_404(TargetSegment, pk=pk) if pk else None
    return _catalogue_form(
        request,
        TargetSegmentForm,
        segment,
        services.segment_save,
        _("Target segment"),
        arg="segment",
        m2m="products",
    )
