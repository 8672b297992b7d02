from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.validators import DateField
from segmentation.models import SegmentationSettings
from segmentation.services import SETTINGS_FIELDS

THRESHOLD_FIELDS = ["abc_basis", "abc_a_pct", "abc_b_pct", "xyz_x_pct", "xyz_y_pct"]


def _check_thresholds(form: forms.Form, data: dict) -> None:
    a, b = data.get("abc_a_pct"), data.get("abc_b_pct")
    if a is not None and b is not None and not a < b:
        form.add_error("abc_b_pct", _("B must be above A."))
    x, y = data.get("xyz_x_pct"), data.get("xyz_y_pct")
    if x is not None and y is not None and not x < y:
        form.add_error("xyz_y_pct", _("Y must be above X."))


class SettingsForm(forms.ModelForm):
    class Meta:
        model = SegmentationSettings
        fields = SETTINGS_FIELDS
        help_texts = {
            # xgettext:no-python-format
            "abc_a_pct": _("A: the clients that make the first A % of the total (seed: 50)."),
            # xgettext:no-python-format
            "abc_b_pct": _("B: up to B % cumulatively (seed: 80); C: the rest."),
            "window_months": _(
                "The analysis window: this many complete calendar months before the run date's "
                "month. ABC, XYZ and RFM use the same months, so classes are stable within a "
                "month."
            ),
            "lifecycle_months": _(
                "W: P0 = the W months before the run date (the run date itself not included), "
                "P1 = the W months before P0; 2·W must fit in the window."
            ),
        }

    def clean(self):
        data = super().clean()
        _check_thresholds(self, data)
        w, n = data.get("lifecycle_months"), data.get("window_months")
        if w and n and 2 * w > n:
            self.add_error("lifecycle_months", _("2·W must not exceed the analysis window."))
        return data


class WhatIfForm(forms.ModelForm):
    """Thresholds only: what the matrix would look like (previewed, saved on request)."""

    class Meta:
        model = SegmentationSettings
        fields = THRESHOLD_FIELDS

    def clean(self):
        data = super().clean()
        _check_thresholds(self, data)
        return data


def month_to_date() -> tuple[date, date]:
    """The default period of the segmentation pages: this month up to today."""
    today = timezone.localdate()
    return today.replace(day=1), today


class PeriodForm(forms.Form):
    start = DateField(label=_("from"), required=False, widget=forms.DateInput({"type": "date"}))
    end = DateField(label=_("to"), required=False, widget=forms.DateInput({"type": "date"}))

    def period(self) -> tuple[date, date]:
        start, end = month_to_date()
        if self.is_valid():
            start = self.cleaned_data.get("start") or start
            end = self.cleaned_data.get("end") or end
        if start > end:
            start, end = end, start
        return start, end
