"""Russian and English are complete and switchable."""

import re

from django.urls import reverse
from django.utils import translation

from tests.conftest import ROOT

PO = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def _entries():
    text = PO.read_text(encoding="utf-8")
    return text.split("\n\n")[1:]


def test_every_russian_message_is_translated_and_not_fuzzy():
    untranslated, fuzzy = [], []
    for block in _entries():
        if "#, fuzzy" in block:
            fuzzy.append(block)
        singular = re.search(r'^msgstr ((?:".*"\n?)+)', block, re.M)
        plural = re.findall(r'^msgstr\[\d\] ((?:".*"\n?)+)', block, re.M)
        values = [singular.group(1)] if singular else plural
        for value in values:
            if "".join(re.findall(r'"(.*)"', value)) == "":
                untranslated.append(block.strip().split("\n")[-2:])
    assert not fuzzy, fuzzy[:3]
    assert not untranslated, untranslated[:5]


def test_compiled_catalogue_is_used():
    with translation.override("ru"):
        assert translation.gettext("Dashboard") == "Панель"
        assert translation.gettext("Clients") == "Клиенты"


def test_default_language_is_russian(manager_client):
    page = manager_client.get(reverse("dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="ru">' in html
    assert "Панель" in html and "Клиенты" in html


def test_switch_to_english_sets_cookie_and_profile(manager_client, manager):
    response = manager_client.post(reverse("switch_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert response.cookies["django_language"].value == "en"
    manager.refresh_from_db()
    assert manager.language == "en"
    html = manager_client.get("/").content.decode()
    assert '<html lang="en">' in html and "Dashboard" in html and "Панель" not in html


def test_profile_language_applies_on_a_new_device(client, manager):
    manager.language = "en"
    manager.save()
    client.force_login(manager)  # no language cookie: a new browser
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html


def test_unknown_language_changes_nothing(manager_client, manager):
    response = manager_client.post(reverse("switch_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert "django_language" not in response.cookies
    manager.refresh_from_db()
    assert manager.language == ""


def test_switch_language_refuses_foreign_redirect(manager_client):
    response = manager_client.post(
        reverse("switch_language"), {"language": "en", "next": "https://evil.example.com/"}
    )
    assert response.url == "/"


def test_login_page_in_both_languages(client):
    assert "Войти" in client.get(reverse("login")).content.decode()
    client.cookies["django_language"] = "en"
    assert "Sign in" in client.get(reverse("login")).content.decode()
