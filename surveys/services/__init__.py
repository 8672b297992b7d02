"""Every write of surveys: campaigns and triggers (``campaigns``), the respondent's answer, opt-out
and the closed loop (``answers``), sending, reminders and expiry (``delivery``), questionnaires
and their items (``questionnaires``), the settings (``settings``)."""

from surveys.services.answers import (
    AnswerState,
    answer_state,
    answer_submit,
    contact_opt_out,
    invitation_open,
    invitation_open_by_token,
)
from surveys.services.campaigns import (
    campaign_launch,
    campaign_save,
    campaigns_due,
    campaigns_launch_due,
    clean_filters,
    first_purchases_fire,
    on_complaint_closed,
    on_settlements_created,
    trigger_deal_won,
    trigger_fire,
)
from surveys.services.delivery import expire_invitations, reminders_queue, send_batch
from surveys.services.questionnaires import questionnaire_save
from surveys.services.settings import survey_settings_update

__all__ = [
    "AnswerState",
    "answer_state",
    "answer_submit",
    "campaign_launch",
    "campaign_save",
    "clean_filters",
    "campaigns_due",
    "campaigns_launch_due",
    "contact_opt_out",
    "expire_invitations",
    "reminders_queue",
    "first_purchases_fire",
    "invitation_open",
    "invitation_open_by_token",
    "on_complaint_closed",
    "on_settlements_created",
    "questionnaire_save",
    "send_batch",
    "survey_settings_update",
    "trigger_deal_won",
    "trigger_fire",
]
