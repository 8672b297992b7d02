"""Survey analytics pages: the figures (``/surveys/analytics/``) and the answers behind them
(``/surveys/analytics/answers/``). Every figure links to the answers list with the same
filters; see ``surveys/analytics.py`` for the scope and the anonymity rule."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm.access import manager_required
from crm.filters import filter_errors, filtered
from crm.forms import add_service_errors
from crm.periods import add_months
from feedback.models import Theme
from surveys import analytics
from surveys.filters import AnalyticsForm, AnswerFilter
from surveys.models import ThemeKeyword
from surveys.services.themes import (
    answer_themes_set,
    suggest_themes,
    theme_keyword_add,
    theme_keyword_delete,
)

PAGE_SIZE = 25

BREAKDOWN_TITLES = {
    "abc": gettext_lazy("ABC class"),
    "xyz": gettext_lazy("XYZ class"),
    "lifecycle": gettext_lazy("Lifecycle status"),
    "segment": gettext_lazy("Target segment"),
    "account_manager": gettext_lazy("Account manager"),
    "product_line": gettext_lazy("Product line"),
    "campaign": gettext_lazy("Campaign"),
}


def cell_query(base: dict, name: str | None, cell: analytics.Cell) -> dict:
    """The answers list's filters of one figure: the page's, plus the cell's own."""
    query = dict(base)
    if name == "month":
        period = analytics.month_period(cell.key)
        query["date_from"] = period.start.isoformat()
        query["date_to"] = period.last_day.isoformat()
    elif name is not None:
        query[name] = cell.key
    return query


def _link(base: dict, name: str | None, cell: analytics.Cell) -> str | None:
    if cell.hidden or not cell.answers:
        return None
    if name == "account_manager" and cell.key == analytics.NONE:
        return None  # the list's account-manager filter has no "none"
    return reverse("survey_analytics:answers") + "?" + urlencode(cell_query(base, name, cell))


@login_required
def analytics_page(request):
    today = timezone.localdate()
    form = AnalyticsForm(request.GET or None, user=request.user, today=today)
    period, trend_period, am = form.chosen()
    data = analytics.cached_report(
        request.user, period=period, trend_period=trend_period, account_manager=am
    )
    base = {"date_from": period.start.isoformat(), "date_to": period.last_day.isoformat()}
    if am:
        base["account_manager"] = am
    tables = []
    for name in analytics.BREAKDOWNS:
        cells = data.breakdowns[name]
        labels = analytics.labels(name, [c.key for c in cells])
        rows = []
        for cell in sorted(
            cells, key=lambda c: (c.key == analytics.NONE, str(labels.get(c.key, c.key)))
        ):
            label = (
                analytics.none_label(name)
                if cell.key == analytics.NONE
                else labels.get(cell.key, "?")
            )
            rows.append({"label": label, "cell": cell, "url": _link(base, name, cell)})
        tables.append({"name": name, "title": BREAKDOWN_TITLES[name], "rows": rows})
    employees = analytics.labels("best_employee", [c.key for c in data.best_employee])
    mentions = [
        {"label": employees.get(c.key, "?"), "cell": c, "url": _link(base, "best_employee", c)}
        for c in sorted(data.best_employee, key=lambda c: -c.answers)
    ]
    campaigns = analytics.labels("campaign", [r.key for r in data.campaign_rates])
    rates = [
        {"label": campaigns.get(r.key, "?"), "rate": r}
        for r in sorted(data.campaign_rates, key=lambda r: str(campaigns.get(r.key, "")))
    ]
    theme_cells = getattr(data, "themes", [])
    theme_labels = analytics.labels("theme", [c.key for c in theme_cells])
    themes = [
        {"label": theme_labels.get(c.key, "?"), "cell": c, "url": _link(base, "theme", c)}
        for c in sorted(theme_cells, key=lambda c: (-c.answers, str(theme_labels.get(c.key))))
    ]
    total_url = _link(base, None, data.totals)

    def band_url(band):
        if not total_url:
            return None
        return reverse("survey_analytics:answers") + "?" + urlencode({**base, "band": band})

    # every month of the trend, those without answers too (a gap in the line, the target
    # line across the whole year)
    by_month = {c.key: c for c in data.trend}
    trend = []
    month = trend_period.start
    while month < trend_period.end:
        c = by_month.get(month) or analytics.Cell(key=month)
        trend.append(
            {
                "label": date_format(month, "YEAR_MONTH_FORMAT"),
                "cell": c,
                "url": _link(base, "month", c),
            }
        )
        month = add_months(month, 1)
    chart = {
        "months": [t["label"] for t in trend],
        "nps": [float(t["cell"].nps) if t["cell"].nps is not None else None for t in trend],
        "csat": [float(t["cell"].csat) if t["cell"].csat is not None else None for t in trend],
        "target": analytics.TARGET_NPS,
    }
    return render(
        request,
        "surveys/analytics/analytics.html",
        {
            "form": form,
            "period": period,
            "s": data.totals,
            "response": data.response,
            "total_url": total_url,
            "band_urls": {b: band_url(b) for b in ("promoter", "passive", "detractor")},
            "tables": tables,
            "mentions": mentions,
            "themes": themes,
            "rates": rates,
            "trend": trend,
            "chart": chart,
            "target": analytics.TARGET_NPS,
            "min_cell": analytics.MIN_CELL,
        },
    )


def answer_rows(user, params):
    """The answers list for ``user`` filtered by ``params``: (filterset, queryset, anonymous
    answers hidden because fewer than MIN_CELL of them matched)."""
    filterset = AnswerFilter(
        params or None,
        queryset=analytics.answers_for(user)
        .select_related(
            "invitation__client", "invitation__contact", "invitation__campaign", "best_employee"
        )
        .prefetch_related("themes"),
        user=user,
    )
    qs = filtered(filterset)
    anonymous = qs.filter(anonymous=True).count()
    hidden = 0
    if 0 < anonymous < analytics.MIN_CELL:
        qs = qs.exclude(anonymous=True)
        hidden = anonymous
    return filterset, qs.order_by("-submitted_at", "-id"), hidden


@login_required
def answer_list(request):
    filterset, qs, hidden = answer_rows(request.user, request.GET)
    if request.GET.get("format") == "xlsx":
        if filter_errors(filterset):
            return HttpResponseBadRequest(_("The filters are not valid."))
        return _xlsx(qs)
    with analytics.without_jit():
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = list(page.object_list)
    suggestions = suggest_themes(page.object_list)
    for a in page.object_list:
        a.suggested = suggestions.get(a.pk, [])
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/analytics/answers.html",
        {
            "form": filterset.form,
            "filter_errors": filter_errors(filterset),
            "page": page,
            "query": query.urlencode(),
            "hidden": hidden,
            "min_cell": analytics.MIN_CELL,
            "all_themes": list(Theme.objects.filter(is_active=True)),
            "back": request.get_full_path(),
        },
    )


@login_required
@require_POST
def answer_themes(request, pk):
    """Set an answer's comment themes from the answers list (its small form or the suggested
    themes' button), then back to the list."""
    answer = get_object_or_404(analytics.answers_for(request.user), pk=pk)
    try:
        chosen = answer_themes_set(
            actor=request.user, answer=answer, themes=request.POST.getlist("themes")
        )
    except ValidationError as exc:
        for errors in exc.message_dict.values():
            for message in errors:
                messages.error(request, message)
    else:
        names = ", ".join(str(t) for t in chosen) or _("none")
        messages.success(request, _("Comment themes saved: %(names)s.") % {"names": names})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("survey_analytics:answers")
    return redirect(back)


XLSX_LIMIT = 100_000
XLSX_CHUNK = 2_000


def _xlsx(qs) -> HttpResponse:
    """The filtered answers as a workbook; anonymous answers without client or contact. The
    comment themes are named in the viewer's language, comma separated."""
    from io import BytesIO

    from openpyxl import Workbook

    from clients.imports.exports import xlsx_cell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Answers"))
    sheet.append(
        [
            _("Submitted"),
            _("Campaign"),
            _("Client"),
            _("Contact"),
            "NPS",
            _("Comment"),
            _("What they liked"),
            _("Complaint"),
            _("Themes"),
        ]
    )
    # the themes are prefetched per chunk of rows (``answer_rows``): a bounded number of
    # queries, and never one IN list of every exported answer
    for a in qs[:XLSX_LIMIT].iterator(chunk_size=XLSX_CHUNK):
        inv = a.invitation
        anonymous = inv.campaign.anonymous
        submitted = timezone.localtime(a.submitted_at)
        sheet.append(
            [
                submitted.date().isoformat() if anonymous else submitted.strftime("%Y-%m-%d %H:%M"),
                xlsx_cell(inv.campaign.name),
                "" if anonymous else xlsx_cell(inv.client.name),
                "" if anonymous else xlsx_cell(inv.contact.full_name),
                a.nps,
                xlsx_cell(a.comment),
                xlsx_cell(a.liked),
                "" if anonymous else (a.complaint_id or ""),
                xlsx_cell(", ".join(t.name for t in a.themes.all())),
            ]
        )
    out = BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="survey-answers.xlsx"'
    return response


class ThemeKeywordForm(forms.ModelForm):
    class Meta:
        model = ThemeKeyword
        fields = ["theme", "language", "text"]
        widgets = {
            "theme": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "language": forms.Select(attrs={"class": "form-select form-select-sm"}),
            "text": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.filter(is_active=True)


@manager_required
def theme_keywords(request):
    """Managers edit the keyword rules that suggest comment themes."""
    form = ThemeKeywordForm()
    if request.method == "POST":
        if "delete" in request.POST:
            keyword = get_object_or_404(ThemeKeyword, pk=request.POST.get("delete"))
            theme_keyword_delete(actor=request.user, keyword=keyword)
            messages.success(request, _("The keyword has been deleted."))
            return redirect("survey_analytics:theme_keywords")
        form = ThemeKeywordForm(request.POST)
        if form.is_valid():
            try:
                theme_keyword_add(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The keyword has been added."))
                return redirect("survey_analytics:theme_keywords")
    keywords = ThemeKeyword.objects.select_related("theme")
    return render(
        request, "surveys/analytics/theme_keywords.html", {"form": form, "keywords": keywords}
    )
