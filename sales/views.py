"""Deal pages: the list (``/sales/``) with its filters and totals."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from crm.filters import filter_errors, filtered
from sales import selectors
from sales.filters import DealFilterSet

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
