"""The one helper that shows a service's refusal on a form (crm.forms.add_service_errors)."""

import re

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse

from crm.forms import add_service_errors
from feedback.models import SlaSettings
from tests.conftest import client_for


class NameForm(forms.Form):
    name = forms.CharField()
    email = forms.EmailField(required=False)


def _valid_form() -> NameForm:
    form = NameForm({"name": "Acme", "email": ""})
    assert form.is_valid()
    return form


def test_dict_errors_go_on_the_fields_they_name():
    form = _valid_form()
    add_service_errors(
        form, ValidationError({"name": ["Taken.", "Too short."], "email": "Bad domain."})
    )
    assert form.errors == {"name": ["Taken.", "Too short."], "email": ["Bad domain."]}
    assert form.non_field_errors() == []
    assert "name" not in form.cleaned_data  # as for a field's own error


def test_a_field_the_form_does_not_show_becomes_a_non_field_error():
    form = _valid_form()
    add_service_errors(form, ValidationError({"phone": "Unknown number.", "name": "Taken."}))
    assert form.non_field_errors() == ["Unknown number."]
    assert form.errors["name"] == ["Taken."]


def test_list_and_plain_errors_are_non_field_errors_with_their_codes():
    form = _valid_form()
    add_service_errors(
        form,
        ValidationError(
            [ValidationError("First.", code="one"), ValidationError("Second.", code="two")]
        ),
    )
    assert form.non_field_errors() == ["First.", "Second."]
    codes = [e.code for e in form.errors.as_data()[NON_FIELD_ERRORS]]
    assert codes == ["one", "two"]
    plain = _valid_form()
    add_service_errors(plain, ValidationError("Refused."))
    assert plain.non_field_errors() == ["Refused."]
    assert plain.errors.keys() == {NON_FIELD_ERRORS}


@pytest.mark.django_db
def test_a_services_field_error_is_shown_at_its_field_on_the_page(manager):
    """The SLA settings service refuses a working day ending before it starts: the message
    stands at the "ends" field (before, it was above the form, and not shown for the field)."""
    http = client_for(manager, "en")
    url = reverse("feedback:settings")
    data = {"working_days": ["1", "2"], "work_start": "18:00", "work_end": "09:00"}
    data["time_zone"] = "Europe/Moscow"
    for p in ("urgent", "high", "normal", "low"):
        data |= {f"{p}__ack": 1, f"{p}__resolve": 4, f"{p}__ack_a": 1, f"{p}__resolve_a": 2}
    response = http.post(url, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {"work_end": ["The working day must end after it starts."]}
    html = response.content.decode()
    field = re.search(
        r'<input class="([^"]*)" type="time" name="work_end"[^>]*>(<div[^<]*</div>)', html
    )
    assert field.group(1) == "form-control is-invalid"
    assert field.group(2) == (
        '<div class="invalid-feedback">The working day must end after it starts.</div>'
    )
    assert SlaSettings.objects.get().work_end.hour != 9
