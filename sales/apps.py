from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "sales"
    verbose_name = _("Sales pipeline")

    def ready(self):
        from clients.extensions import register_my_day_section
        from sales.my_day import deals_section

        register_my_day_section(deals_section)
