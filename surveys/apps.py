from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from clients import extensions as client_events
        from feedback import extensions as complaint_events
        from surveys import card, services

        complaint_events.register_on_complaint_closed(services.on_complaint_closed)
        client_events.register_on_settlements_created(services.on_settlements_created)
        client_events.register_card_panel(card.survey_card_panel)
        client_events.register_timeline(card.survey_timeline_items)
        from surveys import dashboard

        dashboard.register()
