"""The lose form of the board (a drop on "lost", or the card's select)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from sales.models import RefusalCategory


class LoseForm(forms.Form):
    refusal = forms.ModelChoiceField(
        label=_("Refusal category"),
        queryset=RefusalCategory.objects.filter(is_active=True),
        empty_label=_("choose…"),
        error_messages={"required": _("Choose the refusal category.")},
    )
    refusal_note = forms.CharField(
        label=_("Why the client refused"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say in a note why the client refused.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
