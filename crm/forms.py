"""Forms of the base app, and the one way a page shows a service's refusal on its form."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.models import CalendarDay, User


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ``ValidationError`` on ``form``: the messages of a dict error on the
    fields they name, those of a field the form does not show, and a plain (list) error, above
    the form as non-field errors. Codes and parameters are kept."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.error_list)


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Preferred language"), choices=settings.LANGUAGES)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language"]


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {
            "kind": _(
                "A holiday is a day off even on a working weekday; a moved working day is worked "
                "even on a weekend."
            )
        }
