from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.models import CalendarDay, User


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
