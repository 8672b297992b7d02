from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "segmentation"
    verbose_name = _("Segmentation")

    def ready(self):
        from clients import extensions
        from segmentation import card, client_list

        extensions.register_card_panel(card.segmentation_panel)
        extensions.register_client_list(client_list.CLIENT_LIST)
        extensions.register_contact_cadence(client_list.CONTACT_CADENCE)
        from segmentation import dashboard

        dashboard.register()
