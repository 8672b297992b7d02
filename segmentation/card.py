"""What segmentation adds to the client card (clients.extensions): the classes panel with the
figures behind them and the class history."""

from django.utils.translation import gettext as _

from clients.extensions import CardPanel
from segmentation import selectors


def segmentation_panel(client, user) -> CardPanel:
    """Bounded queries: metrics, last run, monthly series, history (+ settings basis)."""
    context = selectors.client_explanation(client)
    context["client"] = client
    run = context["run"]
    context["basis"] = run.parameters.get("basis") if run else "turnover"
    return CardPanel(
        title=_("Segmentation"),
        template="segmentation/_card_panel.html",
        context=context,
        order=20,
    )
