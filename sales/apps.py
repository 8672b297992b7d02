from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales pipeline")

    def ready(self):
        from clients import extensions as client_events
        from sales import card

        client_events.register_card_action(card.deal_card_actions)
        client_events.register_card_panel(card.deal_card_panel)
        client_events.register_timeline(card.deal_timeline_items)

        # the pipeline board's block of My day (owner kanban)
        from sales.my_day import deals_section

        client_events.register_my_day_section(deals_section)

        # the funnel's cached figures are stale after any deal write (owner funnel)
        from sales import funnel

        funnel.connect_signals()

        # the pipeline's card and beacon metric on the manager dashboard
        from sales import dashboard

        dashboard.register()
