from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, pre_delete

        from clients import extensions as client_events
        from clients.models import ProductLine, TargetSegment
        from feedback import extensions as complaint_events
        from feedback.models import Theme
        from segmentation import extensions as class_events
        from surveys import card, dashboard, rollup, services
        from surveys.models import Answer

        complaint_events.register_on_complaint_closed(services.on_complaint_closed)
        client_events.register_on_settlements_created(services.on_settlements_created)
        client_events.register_card_panel(card.survey_card_panel)
        client_events.register_timeline(card.survey_timeline_items)
        # the analytics rollups follow every change of what they sum (surveys/rollup.py)
        client_events.register_on_clients_changed(rollup.sync)
        class_events.register_on_classes_changed(rollup.after_run)
        pre_delete.connect(rollup.answer_pre_delete, sender=Answer, dispatch_uid="rollup-answer")
        post_delete.connect(
            rollup.keys_may_have_moved, sender=TargetSegment, dispatch_uid="rollup-segment"
        )
        for model in (get_user_model(), Theme, ProductLine):
            uid = f"rollup-{model.__name__}"
            pre_delete.connect(rollup.before_named_delete, sender=model, dispatch_uid=uid)
            post_delete.connect(rollup.after_named_delete, sender=model, dispatch_uid=uid)
        dashboard.register()
