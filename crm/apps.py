from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from crm import sqlite


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM core")

    def ready(self) -> None:
        sqlite.connect()
