"""Forms of the base app, and the one way a page shows a service's refusal on its form."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm import validators
from crm.filters import style_widgets
from crm.models import BeaconRule, CalendarDay, User


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
        fields = ["first_name", "last_name", "email", "language", "kpi_digest"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi_digest"].required = False  # left out: unchanged

    def clean_kpi_digest(self):
        return self.cleaned_data.get("kpi_digest") or self.instance.kpi_digest


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


class DashboardForm(forms.Form):
    """The dashboard's period and filters. The period is the month, quarter or year holding
    ``day`` (cut at today: the current month is month-to-date), or ``start``–``end`` (both
    included) for a custom one; the default is the current month to date."""

    KINDS = [
        ("month", _("Month")),
        ("quarter", _("Quarter")),
        ("year", _("Year")),
        ("custom", _("Custom")),
    ]
    MAX_DAYS = 3 * 366

    kind = forms.ChoiceField(label=_("Period"), choices=KINDS, required=False)
    day = validators.DateField(label=_("Day in the period"), required=False)
    start = validators.DateField(label=_("From"), required=False)
    end = validators.DateField(label=_("To (inclusive)"), required=False)
    account_manager = forms.ModelChoiceField(
        label=_("Account manager"),
        queryset=User.objects.filter(role=User.Role.ACCOUNT_MANAGER).order_by(
            "last_name", "first_name", "username"
        ),
        required=False,
        empty_label=_("all"),
    )

    def __init__(self, *args, user, today, extra_filters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.extra_filters = list(extra_filters)
        for f in self.extra_filters:
            self.fields[f.name] = forms.TypedChoiceField(
                label=f.label,
                choices=[("", _("all")), *f.choices()],
                coerce=int,
                empty_value=None,
                required=False,
            )
        if not getattr(user, "sees_everything", False):
            del self.fields["account_manager"]
        style_widgets(self)

    def clean(self):
        data = super().clean()
        if data.get("kind") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise ValidationError(_("A custom period needs both its first and last day."))
            if end < start:
                raise ValidationError(_("The period cannot end before it starts."))
            if (end - start).days >= self.MAX_DAYS:
                raise ValidationError(_("A custom period is at most three years long."))
        return data

    def period(self):
        from datetime import date, timedelta

        from crm.periods import Period, add_months

        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        kind = data.get("kind") or "month"
        if kind == "custom":
            return Period(data["start"], data["end"] + timedelta(days=1))
        day = data.get("day") or self.today
        if kind == "year":
            start = date(day.year, 1, 1)
            end = date(day.year + 1, 1, 1)
        elif kind == "quarter":
            start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            end = add_months(start, 3)
        else:
            start = day.replace(day=1)
            end = add_months(start, 1)
        tomorrow = self.today + timedelta(days=1)
        if start < tomorrow < end:  # the current period: up to today
            end = tomorrow
        return Period(start, end)

    def period_kind(self) -> str:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("kind") or "month"

    def account_manager_id(self) -> int | None:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        am = data.get("account_manager")
        return am.pk if am else None

    def chosen_filters(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {f.name: data.get(f.name) for f in self.extra_filters if data.get(f.name)}


class BeaconRuleForm(forms.ModelForm):
    """A beacon rule (crm/beacons.py): the metric and the scope it supports, the condition, the
    repeat interval and the recipients. Every refusal names the field and what to do."""

    metric = forms.ChoiceField(label=_("Metric"))
    scope_segment = forms.TypedChoiceField(
        label=_("Target segment"), coerce=int, required=False, empty_value=None
    )

    class Meta:
        model = BeaconRule
        fields = BeaconRule.EDITABLE

    def __init__(self, *args, **kwargs):
        from crm import dashboard as kpi

        super().__init__(*args, **kwargs)
        self.metrics = kpi.metrics()
        self.fields["metric"].choices = [("", "—")] + sorted(
            ((k, str(m.label)) for k, m in self.metrics.items()), key=lambda c: c[1]
        )
        segments = next((f for f in kpi.filters() if f.name == "segment"), None)
        self.fields["scope_segment"].choices = [("", "—")] + (
            segments.choices() if segments else []
        )
        self.fields["scope_account_manager"].queryset = User.objects.filter(
            is_active=True, role=User.Role.ACCOUNT_MANAGER
        ).order_by("username")
        self.fields["recipients"].queryset = User.objects.filter(is_active=True).order_by(
            "username"
        )
        self.fields["threshold"].widget.attrs["step"] = "any"

    def clean_window_days(self):
        value = self.cleaned_data["window_days"]
        if not 1 <= value <= 366:
            raise ValidationError(_("The period must be 1 to 366 days."), code="window")
        return value

    def clean_repeat_hours(self):
        value = self.cleaned_data["repeat_hours"]
        if not 1 <= value <= 24 * 31:
            raise ValidationError(
                _("The repeat interval must be 1 to 744 hours (31 days)."), code="repeat"
            )
        return value

    def clean(self):
        data = super().clean()
        metric = self.metrics.get(data.get("metric") or "")
        scope = data.get("scope")
        if metric is not None and scope and scope not in metric.scopes:
            self.add_error(
                "scope", _("This metric cannot be narrowed to this scope; choose another.")
            )
        needed = {
            "account_manager": ("scope_account_manager", _("Choose the account manager.")),
            "class": ("scope_class", _("Choose the ABC class.")),
            "segment": ("scope_segment", _("Choose the target segment.")),
        }
        for name, (field, text) in needed.items():
            if scope == name and data.get(field) in (None, ""):
                self.add_error(field, text)
            elif scope != name:
                data[field] = None if field != "scope_class" else ""
        if metric is not None and data.get("compare") == "change" and not metric.period:
            self.add_error(
                "compare",
                _("This metric is a state as of now: it has no previous period to compare with."),
            )
        return data
