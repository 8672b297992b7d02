"""Forms of the import page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.imports import limits
from clients.models import ImportJob
from crm.formats import format_number


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (comma or semicolon, UTF-8 or Windows-1251) or XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )
    mode = forms.ChoiceField(
        label=_("If some rows have errors"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = limits.max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large (%(size)s MB); the limit is %(limit)s MB. Split it.")
                % {
                    "size": format_number(upload.size / 1024 / 1024, 1),
                    "limit": format_number(limit // (1024 * 1024)),
                }
            )
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(
                _("Upload a .csv or .xlsx file (old .xls is not supported).")
            )
        return upload
