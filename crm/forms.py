from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.models import User


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Preferred language"), choices=settings.LANGUAGES)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language"]
