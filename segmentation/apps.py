from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "segmentation"
    verbose_name = _("Segmentation")

    def ready(self):
        from clients.extensions import register_card_panel
        from segmentation.panels import segmentation_panel

        register_card_panel(segmentation_panel)
