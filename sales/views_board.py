"""The pipeline board: columns of deals by stage, paged cards, moves by drag and drop (htmx) or
by a select and a button on each card (keyboard, no JavaScript), the lose form a drop on "lost"
opens. Reads: ``sales.board``; writes: ``sales.services``."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm.access import get_for_user
from crm.filters import filter_errors, filtered
from crm.formats import format_money
from crm.forms import add_service_errors
from sales import board as selectors
from sales import services
from sales.board_filters import BoardFilter
from sales.forms_board import LoseForm
from sales.models import Deal, Pipeline, SalesSettings, Stage, StageKind

FILTER_PARAMS = ("owner", "product_line", "abc", "ageing")


def _pipeline(pipeline_id) -> Pipeline:
    if pipeline_id is None:
        pipeline = selectors.default_pipeline()
        if pipeline is None:
            raise Http404(_("Not found."))
        return pipeline
    return get_object_or_404(Pipeline, pk=pipeline_id)


def _filter_query(data) -> str:
    return urlencode([(k, data.get(k)) for k in FILTER_PARAMS if data.get(k)])


def _filtered_deals(request, pipeline, data):
    today = timezone.localdate()
    filterset = BoardFilter(
        data or None,
        queryset=selectors.board_deals(request.user, pipeline),
        user=request.user,
        today=today,
    )
    return filterset, filtered(filterset), today


def _pattern(name: str) -> str:
    return reverse(name, args=[987654321]).replace("987654321", "%d")


def _labels() -> dict:
    """The fixed words of a card, translated once per request (not once per card)."""
    return {
        "abc": _("ABC class"),
        "deal": _("Deal"),
        "no_next_step": _("no next step"),
        "overdue": _("overdue in the stage"),
        "ageing": _("ageing"),
        "move_to": _("Move to stage"),
        "move": _("Move"),
        "closed": _("closed"),
    }


def _present(cards, stages, here: str) -> None:
    """Each card's links, the options of its move select (every column but its own) and its
    texts (amount, dates, days in the stage), built here once per request so that the card's
    template only puts strings in place: a board shows up to ~160 cards."""
    move, lose = _pattern("sales:board_move"), _pattern("sales:board_lose")
    detail, client = _pattern("sales:detail"), _pattern("clients:detail")
    back = "?" + urlencode({"next": here})
    options = {
        stage.pk: format_html_join(
            "", '<option value="{}">{}</option>', [(s.pk, s.name) for s in stages if s != stage]
        )
        for stage in stages
    }
    labels = _labels()
    for card in cards:
        pk = card.pk
        card.options = options.get(card.stage_id, "")
        card.links = {
            "move": move % pk,
            "lose": lose % pk + back,
            "detail": detail % pk,
            "client": client % card.client_id,
        }
        card.text = {
            "pk": str(pk),
            "version": str(card.version),
            "stage": str(card.stage_id),
            "title": card.title or f"{labels['deal']} #{pk}",
            "amount": format_money(card.amount),
            "next_step": (
                date_format(card.next_step_date, "SHORT_DATE_FORMAT") if card.next_step_date else ""
            ),
            "days": ngettext("%(days)s day in the stage", "%(days)s days in the stage", card.days)
            % {"days": card.days},
            "closed_on": (
                date_format(timezone.localtime(card.closed_at), "SHORT_DATE_FORMAT")
                if card.closed_at
                else ""
            ),
            **labels,
        }


def _is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


@login_required
@require_GET
def board(request, pipeline_id=None):
    pipeline = _pipeline(pipeline_id)
    stages = selectors.board_stages(pipeline)
    filterset, deals, today = _filtered_deals(request, pipeline, request.GET)
    settings = SalesSettings.load()
    columns = selectors.board(deals, stages, today=today, settings=settings)
    query = _filter_query(request.GET)
    _present([c for col in columns for c in col.cards], stages, request.get_full_path())
    return render(
        request,
        "sales/board.html",
        {
            "pipeline": pipeline,
            "pipelines": Pipeline.objects.filter(is_active=True),
            "columns": columns,
            "stages": stages,
            "form": filterset.form,
            "filter_errors": filter_errors(filterset),
            "query": query,
            "here": request.get_full_path(),
            "closed_days": selectors.CLOSED_DAYS,
        },
    )


@login_required
@require_GET
def column(request, pipeline_id, stage_id):
    """A further page of one column's cards: the cards and the next "more" link (htmx), or a
    page of its own without JavaScript."""
    pipeline = _pipeline(pipeline_id)
    stage = get_object_or_404(Stage, pk=stage_id, pipeline=pipeline)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    filterset, deals, today = _filtered_deals(request, pipeline, request.GET)
    settings = SalesSettings.load()
    count = selectors.column_deals(deals, stage, selectors.closed_since()).count()
    col = selectors.Column(stage=stage, count=count, page=page)
    col.cards = selectors.cards_page(deals, stage, page, today=today, settings=settings)
    query = _filter_query(request.GET)
    board_url = reverse("sales:board_pipeline", args=[pipeline.pk])
    here = board_url + (f"?{query}" if query else "")
    _present(col.cards, selectors.board_stages(pipeline), here)
    context = {"pipeline": pipeline, "col": col, "query": query, "here": here}
    if _is_htmx(request):
        return render(request, "sales/_board_cards.html", context)
    return render(request, "sales/board_column.html", context)


def _back(request, fallback: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return fallback


def _lose_url(deal: Deal, back: str) -> str:
    return reverse("sales:board_lose", args=[deal.pk]) + "?" + urlencode({"next": back})


@login_required
@require_POST
def move(request, deal_id):
    """Move a deal to ``stage`` (an open stage or "won"; "lost" leads to the lose form),
    refused when the deal changed since the page showed ``version``."""
    deal = get_for_user(Deal.objects.select_related("pipeline"), request.user, pk=deal_id)
    back = _back(request, reverse("sales:board_pipeline", args=[deal.pipeline_id]))
    htmx = _is_htmx(request)
    stage = None
    try:
        version = int(request.POST.get("version", ""))
        stage = Stage.objects.filter(pk=int(request.POST.get("stage", ""))).first()
    except ValueError:
        version = None
    if stage is None or version is None:
        return _refused(request, htmx, back, _("Choose the stage to move the deal to."))
    left = deal.stage_id
    if stage.kind == StageKind.LOST:
        if stage.pipeline_id != deal.pipeline_id:
            return _refused(request, htmx, back, _("The stage belongs to another pipeline."))
        url = _lose_url(deal, back)
        if htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
    try:
        if stage.kind == StageKind.WON:
            if stage.pipeline_id != deal.pipeline_id:
                raise ValidationError({"stage": _("The stage belongs to another pipeline.")})
            deal = services.deal_win(actor=request.user, deal=deal, expected_version=version)
        else:
            deal = services.deal_move(
                actor=request.user, deal=deal, stage=stage, expected_version=version
            )
    except ValidationError as exc:
        return _refused(request, htmx, back, " ".join(exc.messages), status=409)
    if not htmx:
        messages.success(
            request, _("%(deal)s moved to “%(stage)s”.") % {"deal": deal, "stage": deal.stage}
        )
        return HttpResponseRedirect(back)
    return _moved(request, deal, left)


def _refused(request, htmx: bool, back: str, message: str, status: int = 400):
    if htmx:
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return HttpResponseRedirect(back)


def _moved(request, deal: Deal, left: int):
    """The moved card, and the refreshed figures (out of band) of the column it left and the
    one it entered, under the filters the board shows (sent along as ``filters``); no other
    column's figures change with this move."""
    pipeline = deal.pipeline
    data = QueryDict(request.POST.get("filters", ""))
    _filterset, deals, today = _filtered_deals(request, pipeline, data)
    settings = SalesSettings.load()
    stages = selectors.board_stages(pipeline)
    columns = selectors.column_figures(deals, [s for s in stages if s.pk in (left, deal.stage_id)])
    cards = selectors.cards_page(
        Deal.objects.filter(pk=deal.pk), deal.stage, 1, today=today, settings=settings
    )
    query = _filter_query(data)
    _present(cards, stages, request.POST.get("next", ""))
    return render(
        request,
        "sales/_board_moved.html",
        {
            "card": cards[0] if cards else None,
            "columns": columns,
            "stages": stages,
            "pipeline": pipeline,
            "query": query,
            "here": request.POST.get("next", ""),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def lose(request, deal_id):
    """Close a deal as lost: the refusal category and a note are required."""
    deal = get_for_user(
        Deal.objects.select_related("pipeline", "stage", "client"), request.user, pk=deal_id
    )
    back = _back(request, reverse("sales:board_pipeline", args=[deal.pipeline_id]))
    if request.method == "POST":
        form = LoseForm(request.POST)
        if form.is_valid():
            try:
                services.deal_lose(
                    actor=request.user,
                    deal=deal,
                    refusal=form.cleaned_data["refusal"],
                    note=form.cleaned_data["refusal_note"],
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("%(deal)s closed as lost.") % {"deal": deal})
                return HttpResponseRedirect(back)
    else:
        form = LoseForm(initial={"version": deal.version})
    return render(request, "sales/board_lose.html", {"deal": deal, "form": form, "back": back})
