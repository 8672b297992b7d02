"""Editing campaigns and the settings through the services: validated (ValidationError by
field, nothing saved) and audited."""

import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditEntry
from surveys import services
from surveys.models import Campaign
from tests.factories import ProductLineFactory


def test_campaign_save_cleans_the_filters_and_audits(manager, nps_questionnaire):
    line = ProductLineFactory()
    campaign = services.campaign_save(
        actor=manager,
        data={
            "name": "Class A, yearly",
            "questionnaire": nps_questionnaire,
            "filters": {"abc": ["A", "A"], "product_line": [str(line.pk)], "xyz": []},
        },
    )
    assert campaign.filters == {"abc": ["A"], "product_line": [line.pk]}
    assert (campaign.kind, campaign.trigger, campaign.created_by) == (
        "relationship",
        "manual",
        manager,
    )
    entry = AuditEntry.objects.get(object_id=str(campaign.pk), action="create")
    assert entry.actor == manager


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"filters": {"abc": ["D"]}}, "filters"),
        ({"filters": {"colour": ["red"]}}, "filters"),
        ({"filters": {"segment": [999999]}}, "filters"),
        ({"filters": {"account_manager": ["x"]}}, "filters"),
        ({"filters": {"not_surveyed_months": 0}}, "filters"),
        ({"trigger": "deal_won"}, "trigger"),  # a relationship campaign is sent by hand
        ({"kind": "transactional"}, "trigger"),  # a transactional one needs its event
        ({"expiry_days": 0}, "expiry_days"),
    ],
)
def test_campaign_save_refuses_bad_input(manager, nps_questionnaire, data, field):
    with pytest.raises(ValidationError) as error:
        services.campaign_save(
            actor=manager, data={"name": "x", "questionnaire": nps_questionnaire, **data}
        )
    assert field in error.value.message_dict
    assert Campaign.objects.count() == 0


def test_settings_update_validates_the_class_periods(manager, prefs):
    saved = services.survey_settings_update(
        actor=manager, data={"quiet_days": 120, "quiet_days_by_class": {"A": "45", "B": ""}}
    )
    assert (saved.quiet_days, saved.quiet_days_by_class) == (120, {"A": 45})
    assert saved.quiet_days_for("A") == 45 and saved.quiet_days_for("C") == 120
    assert saved.quiet_days_for(None) == 120
    for bad in ({"D": 10}, {"A": -1}, {"A": "soon"}):
        with pytest.raises(ValidationError) as error:
            services.survey_settings_update(actor=manager, data={"quiet_days_by_class": bad})
        assert "quiet_days_by_class" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.survey_settings_update(actor=manager, data={"token": "x"})
