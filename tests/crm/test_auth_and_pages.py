"""Login, logout, profile, the shell and its "coming" pages, the audit service."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from crm.models import AuditEntry, User
from crm.selectors import audit_for_object
from crm.services import audit_record, diff, snapshot


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_and_logout(client, manager):
    response = client.post(reverse("login"), {"username": "boss", "password": "secret-pass-123"})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "en",
            "Please enter a correct username and password. Note that both fields may be "
            "case-sensitive.",
        ),
        (
            "ru",
            "Пожалуйста, введите правильные имя пользователя и пароль. Оба поля могут быть "
            "чувствительны к регистру.",
        ),
    ],
)
def test_wrong_password_is_refused_with_a_message(client, manager, language, message):
    client.cookies["django_language"] = language
    response = client.post(reverse("login"), {"username": "boss", "password": "nope"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "section", ["clients", "segments", "surveys", "complaints", "pipeline", "loyalty"]
)
def test_coming_pages_render_for_every_role(client, manager, owner, section):
    for user in (manager, owner):
        client.force_login(user)
        response = client.get(reverse("coming", kwargs={"section": section}))
        assert response.status_code == 200
        assert 'data-state="coming"' in response.content.decode()


def test_unknown_section_is_404(manager_client):
    assert manager_client.get("/coming/nothing/").status_code == 404


def test_navigation_has_every_section(manager_client):
    html = manager_client.get("/").content.decode()
    for key in ["dashboard", "clients", "segments", "surveys", "complaints", "pipeline", "loyalty"]:
        assert f'data-nav="{key}"' in html


def test_profile_saves_name_and_language(manager_client, manager):
    response = manager_client.post(
        reverse("profile"),
        {"first_name": "Анна", "last_name": "Ли", "email": "a@example.com", "language": "en"},
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert (manager.first_name, manager.language) == ("Анна", "en")


def test_profile_rejects_bad_email(manager_client, manager):
    response = manager_client.post(
        reverse("profile"),
        {"first_name": "A", "last_name": "B", "email": "not-an-email", "language": "en"},
    )
    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.email == "boss@example.com"


def test_password_change_page(manager_client):
    assert manager_client.get(reverse("password_change")).status_code == 200


def test_roles_see_everything_or_own(manager, owner):
    admin = User.objects.create_user("root", role=User.Role.ADMIN)
    assert admin.sees_everything and manager.sees_everything
    assert not owner.sees_everything
    assert owner.head == manager


def test_audit_record_and_selector(manager, owner):
    before = snapshot(owner, ["first_name", "head"])
    owner.first_name = "Новое"
    owner.save()
    entry = audit_record(
        actor=manager,
        instance=owner,
        action=AuditEntry.Action.UPDATE,
        changes=diff(before, snapshot(owner, ["first_name", "head"])),
    )
    assert entry.changes == {"first_name": [before["first_name"], "Новое"]}
    assert entry.content_type == ContentType.objects.get_for_model(User)
    assert list(audit_for_object(owner)) == [entry]
    assert entry.actor == manager


def test_demo_users_command_prints_passwords_once(db, capsys):
    from django.core.management import call_command

    call_command("create_demo_users")
    first = capsys.readouterr().out
    assert "admin" in first and "manager" in first and "am1" in first
    call_command("create_demo_users")
    second = capsys.readouterr().out
    assert "already exist" in second
    assert User.objects.get(username="am1").head.username == "manager"
    assert User.objects.get(username="admin").is_superuser


def test_navigation_links_real_pages_and_coming_for_the_rest(manager_client):
    html = manager_client.get("/").content.decode()
    assert 'href="/clients/" data-nav="clients"' in html
    assert 'href="/sales/board/" data-nav="pipeline"' in html
    assert 'href="/coming/loyalty/" data-nav="loyalty"' in html
    assert 'href="/surveys/" data-nav="surveys"' in html


@pytest.mark.parametrize(
    ("path", "active"),
    [
        ("/", "dashboard"),
        ("/clients/", "clients"),
        ("/clients/my-day/", "clients"),
        ("/feedback/complaints/", "complaints"),
        ("/sales/", "pipeline"),
        ("/sales/board/", "pipeline"),
        ("/sales/pipelines/", "pipeline"),
        ("/surveys/", "surveys"),
        ("/surveys/questionnaires/", "surveys"),
    ],
)
def test_exactly_one_section_is_highlighted(manager_client, path, active):
    response = manager_client.get(path)
    assert response.status_code == 200
    lit = [item["key"] for item in response.context["nav_items"] if item["active"]]
    assert lit == [active]


def test_password_change_works_and_refuses_a_wrong_old_password(manager_client, manager):
    url = reverse("password_change")
    response = manager_client.post(
        url,
        {
            "old_password": "wrong",
            "new_password1": "N3w-pass-2026!",
            "new_password2": "N3w-pass-2026!",
        },
    )
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    manager.refresh_from_db()
    assert manager.check_password("secret-pass-123")
    response = manager_client.post(
        url,
        {
            "old_password": "secret-pass-123",
            "new_password1": "N3w-pass-2026!",
            "new_password2": "N3w-pass-2026!",
        },
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    manager.refresh_from_db()
    assert manager.check_password("N3w-pass-2026!")
