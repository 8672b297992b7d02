from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Surveys and complaints")

    def ready(self):
        from clients import extensions
        from feedback import card

        extensions.register_timeline(card.complaint_timeline_items)
        extensions.register_card_action(card.complaint_card_actions)
        extensions.register_card_panel(card.complaint_card_panel)
        from feedback import dashboard

        dashboard.register()
