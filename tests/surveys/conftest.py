"""Fixtures of the survey tests: the settings (no send pacing, a signing head), the seeded
questionnaires, a campaign factory, the owner's client with a contact, and helpers that send
queued invitations and pull the link token out of the email."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from feedback.models import Theme
from surveys.models import Campaign, Invitation, Questionnaire, QuestionnaireItem
from surveys.selectors import survey_settings
from tests.factories import ClientFactory, ContactFactory

MSK = ZoneInfo("Europe/Moscow")
LINK = re.compile(r"https?://[^\s]+/s/([A-Za-z0-9_\-]+)/(?!opt-out)")


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture(autouse=True)
def prefs(db):
    obj = survey_settings()
    obj.send_rate_per_minute = 0  # no pacing in unit tests (a test of its own checks it)
    obj.company_head_name = "Ivan Sidorov"
    obj.save()
    return obj


@pytest.fixture
def nps_questionnaire(db):
    # seeded by migration 0002; recreated after a transactional test flushed the tables
    return Questionnaire.objects.get_or_create(
        code="relationship-nps",
        defaults={"title_ru": "Оценка нашей работы", "title_en": "How are we doing?"},
    )[0]


@pytest.fixture
def csat_questionnaire(db):
    q, created = Questionnaire.objects.get_or_create(
        code="product-csat",
        defaults={"title_ru": "Оценка покупки", "title_en": "Rate your purchase"},
    )
    if created:
        for ru, en, order in (("Скорость доставки", "Delivery speed", 20),):
            QuestionnaireItem.objects.create(questionnaire=q, text_ru=ru, text_en=en, order=order)
    return q


@pytest.fixture
def survey_theme(db):
    return Theme.objects.get_or_create(
        code="survey-feedback",
        defaults={"name_en": "Unhappy survey answer", "name_ru": "Недовольство в опросе"},
    )[0]


@pytest.fixture
def make_campaign(nps_questionnaire, manager):
    def make(**kwargs) -> Campaign:
        kwargs.setdefault("name", "Relationship NPS")
        kwargs.setdefault("questionnaire", nps_questionnaire)
        kwargs.setdefault("created_by", manager)
        if kwargs.get("trigger", "manual") != "manual":
            kwargs.setdefault("kind", Campaign.Kind.TRANSACTIONAL)
            kwargs.setdefault("status", Campaign.Status.ACTIVE)
        return Campaign.objects.create(**kwargs)

    return make


@pytest.fixture
def own_client(owner):
    return ClientFactory(name="Acme Ltd", account_manager=owner)


@pytest.fixture
def contact(own_client):
    return ContactFactory(client=own_client, full_name="Anna Ivanova", email="anna@acme.example")


def tokens_in_outbox() -> list[str]:
    """The answer-link tokens of the emails sent so far (locmem backend), in order."""
    return [m for msg in mail.outbox for m in LINK.findall(msg.body)]


def invite(campaign, contact, *, at=None, **fields) -> Invitation:
    """An invitation row as the launch would make it (queued), at ``at``."""
    from surveys.services.campaigns import _new_invitation

    invitation = _new_invitation(campaign, contact, at or msk(2026, 11, 2, 10))
    for name, value in fields.items():
        setattr(invitation, name, value)
    invitation.save()
    return invitation
