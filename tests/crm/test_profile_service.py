"""The profile save is a service (``crm.services.user_profile_update``) that audits what changed,
old → new; the profile page saves through it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from crm.models import AuditEntry, User
from crm.services import user_profile_update
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(db):
    return UserFactory(
        username="olga", first_name="Ольга", last_name="Иванова", email="olga@example.com"
    )


def updates_of(user: User) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_id=str(user.pk), action="update").order_by("id"))


def test_the_service_saves_and_audits_old_to_new(olga):
    user_profile_update(
        actor=olga,
        user=olga,
        data={
            "first_name": "Ольга",  # unchanged: not in the diff
            "last_name": "Петрова",
            "email": "o.petrova@example.com",
            "language": "en",
        },
    )
    olga.refresh_from_db()
    assert (olga.last_name, olga.email, olga.language) == (
        "Петрова",
        "o.petrova@example.com",
        "en",
    )
    [entry] = updates_of(olga)
    assert entry.actor == olga
    assert entry.object_repr == "Ольга Петрова"
    assert entry.changes == {
        "last_name": ["Иванова", "Петрова"],
        "email": ["olga@example.com", "o.petrova@example.com"],
        "language": ["", "en"],
    }


def test_the_service_reads_old_values_from_the_database(olga):
    """A form bound to the user has already written the new values onto the instance; the
    diff is still against what was stored."""
    olga.first_name = "Оля"  # as ProfileForm.is_valid() leaves it
    user_profile_update(actor=olga, user=olga, data={"first_name": "Оля"})
    assert updates_of(olga)[0].changes == {"first_name": ["Ольга", "Оля"]}


def test_a_save_that_changes_nothing_writes_no_entry(olga):
    user_profile_update(actor=olga, user=olga, data={"first_name": "Ольга", "email": olga.email})
    assert updates_of(olga) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "root"}, "These fields cannot be changed here: username"),
        ({"email": "not an email"}, "Enter a valid email address."),
        ({"language": "de"}, "Value 'de' is not a valid choice."),
    ],
)
def test_the_service_refuses_and_saves_nothing(olga, data, message):
    with translation.override("en"):  # the messages are read in English
        with pytest.raises(ValidationError) as refused:
            user_profile_update(actor=olga, user=olga, data=data)
        assert message in " ".join(refused.value.messages)
    stored = User.objects.get(pk=olga.pk)
    assert (stored.username, stored.email, stored.language) == ("olga", "olga@example.com", "")
    assert updates_of(olga) == []


def test_the_profile_page_saves_through_the_service(olga):
    http = client_for(olga, "en")
    response = http.post(
        reverse("profile"),
        {
            "first_name": "Olga",
            "last_name": "Ivanova",
            "email": "olga@example.com",
            "language": "en",
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "Your profile has been saved." in response.content.decode()
    [entry] = updates_of(olga)
    assert entry.actor == olga
    assert entry.changes == {
        "first_name": ["Ольга", "Olga"],
        "last_name": ["Иванова", "Ivanova"],
        "language": ["", "en"],
    }
    olga.refresh_from_db()
    assert (olga.first_name, olga.last_name, olga.language) == ("Olga", "Ivanova", "en")
