"""Forms of the staff pages of surveys: the questionnaire with its CSAT items, the campaign with
its audience filters, the settings, and the campaign list's FilterSet. They parse input only; the
services in ``surveys.services`` validate again and save."""

import django_filters
from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from clients.models import ProductLine, TargetSegment
from clients.pickers import ROLE_ACCOUNT_MANAGER, USERS, users_for_role
from crm.filters import FilterSet
from crm.models import User
from crm.pickers import RecordField
from segmentation.models import AbcClass, Lifecycle, XyzClass
from surveys.models import Campaign, Questionnaire, QuestionnaireItem
from surveys.selectors import NO_CLASS

NO_CLASS_LABEL = _("no class")


class QuestionnaireForm(forms.ModelForm):
    class Meta:
        model = Questionnaire
        fields = [
            "title_ru",
            "title_en",
            "intro_ru",
            "intro_en",
            "ask_nps",
            "ask_comment",
            "ask_liked",
            "ask_best_employee",
            "is_active",
        ]
        widgets = {
            "intro_ru": forms.Textarea(attrs={"rows": 3}),
            "intro_en": forms.Textarea(attrs={"rows": 3}),
        }


class QuestionnaireItemForm(forms.ModelForm):
    class Meta:
        model = QuestionnaireItem
        fields = ["text_ru", "text_en", "order", "product_line"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_line"].queryset = ProductLine.objects.order_by("name")
        self.fields["product_line"].empty_label = _("every product")
        self.fields["order"].widget.attrs.update({"min": 0, "max": 32767})
        # a row of a table under its headers: the field's label is for screen readers only
        for name, field in self.fields.items():
            css = "form-select" if name == "product_line" else "form-control"
            field.widget.attrs.update({"class": css, "aria-label": str(field.label)})


ItemFormSet = forms.inlineformset_factory(
    Questionnaire,
    QuestionnaireItem,
    form=QuestionnaireItemForm,
    extra=2,
    can_delete=True,
)


def item_rows(formset) -> list[dict]:
    """The formset's changed rows for ``questionnaire_save(items=…)``."""
    rows = []
    for form in formset.forms:
        if not form.has_changed() and not form.instance.pk:
            continue
        data = form.cleaned_data
        if not data:
            continue
        row = {name: data.get(name) for name in ("text_ru", "text_en", "order", "product_line")}
        if row["order"] is None:
            row["order"] = 100
        if form.instance.pk:
            row["id"] = form.instance.pk
        row["delete"] = bool(data.get("DELETE"))
        rows.append(row)
    return rows


def _classes(choices) -> list:
    return [*choices, (NO_CLASS, NO_CLASS_LABEL)]


class CampaignForm(forms.Form):
    """A campaign and its audience filters (``Campaign.filters``)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Campaign.Kind.choices)
    trigger = forms.ChoiceField(
        label=_("Trigger"),
        choices=Campaign.Trigger.choices,
        help_text=_("A relationship campaign is sent by hand; a transactional one by its event."),
    )
    questionnaire = forms.ModelChoiceField(
        label=_("Questionnaire"), queryset=Questionnaire.objects.none()
    )
    abc = forms.MultipleChoiceField(
        label=capfirst(_("ABC class")),
        choices=_classes(AbcClass.choices),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    xyz = forms.MultipleChoiceField(
        label=capfirst(_("XYZ class")),
        choices=_classes(XyzClass.choices),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lifecycle = forms.MultipleChoiceField(
        label=_("Lifecycle stage"),
        choices=Lifecycle.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    segment = forms.ModelMultipleChoiceField(
        label=_("Target segment"),
        queryset=TargetSegment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    account_manager = RecordField(
        USERS,
        label=_("Account manager"),
        queryset=User.objects.none(),
        required=False,
        params={"role": ROLE_ACCOUNT_MANAGER},
    )
    product_line = forms.ModelMultipleChoiceField(
        label=_("Bought from the product line"),
        queryset=ProductLine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    not_surveyed_months = forms.IntegerField(
        label=_("Not surveyed for, months"),
        min_value=1,
        max_value=120,
        required=False,
        help_text=_("Empty: any client. 12 — the yearly relationship survey."),
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_("Answers are never shown with the respondent; the respondent is told so."),
    )
    expiry_days = forms.IntegerField(label=_("Link valid, days"), min_value=1, max_value=365)
    reminders_max = forms.IntegerField(label=_("Reminders, at most"), min_value=0, max_value=10)
    reminder_gap_days = forms.IntegerField(
        label=_("Days between reminders"), min_value=1, max_value=365
    )
    recur_months = forms.IntegerField(
        label=_("Repeat every N months"),
        min_value=1,
        max_value=120,
        required=False,
        help_text=_("Empty: once."),
    )

    FILTERS = ("abc", "xyz", "lifecycle", "segment", "account_manager", "product_line")
    AUDIENCE = (*FILTERS, "not_surveyed_months")

    def __init__(self, *args, campaign: Campaign | None = None, **kwargs):
        self.campaign = campaign
        if campaign is not None and "initial" not in kwargs:
            f = campaign.filters or {}
            kwargs["initial"] = {
                "name": campaign.name,
                "kind": campaign.kind,
                "trigger": campaign.trigger,
                "questionnaire": campaign.questionnaire_id,
                "anonymous": campaign.anonymous,
                "expiry_days": campaign.expiry_days,
                "reminders_max": campaign.reminders_max,
                "reminder_gap_days": campaign.reminder_gap_days,
                "recur_months": campaign.recur_months,
                "not_surveyed_months": f.get("not_surveyed_months"),
                "account_manager": (f.get("account_manager") or [None])[0],
                **{k: f.get(k, []) for k in ("abc", "xyz", "lifecycle", "segment", "product_line")},
            }
        elif "initial" not in kwargs:
            kwargs["initial"] = {"expiry_days": 14, "reminders_max": 1, "reminder_gap_days": 3}
        super().__init__(*args, **kwargs)
        active = Questionnaire.objects.filter(is_active=True)
        if campaign is not None:  # keep a questionnaire deactivated since
            active = Questionnaire.objects.filter(is_active=True) | Questionnaire.objects.filter(
                pk=campaign.questionnaire_id
            )
        self.fields["questionnaire"].queryset = active.order_by("title_en", "id")
        self.fields["segment"].queryset = TargetSegment.objects.order_by("name")
        self.fields["product_line"].queryset = ProductLine.objects.order_by("name")
        self.fields["account_manager"].queryset = users_for_role(ROLE_ACCOUNT_MANAGER)

    def audience_filters(self) -> dict:
        data = self.cleaned_data
        filters = {k: data.get(k) for k in ("abc", "xyz", "lifecycle")}
        filters["segment"] = [s.pk for s in data.get("segment") or []]
        filters["product_line"] = [p.pk for p in data.get("product_line") or []]
        manager = data.get("account_manager")
        filters["account_manager"] = [manager.pk] if manager else []
        filters["not_surveyed_months"] = data.get("not_surveyed_months")
        return {k: v for k, v in filters.items() if v}

    def to_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "kind": data["kind"],
            "trigger": data["trigger"],
            "questionnaire": data["questionnaire"],
            "filters": self.audience_filters(),
            "anonymous": data["anonymous"],
            "expiry_days": data["expiry_days"],
            "reminders_max": data["reminders_max"],
            "reminder_gap_days": data["reminder_gap_days"],
            "recur_months": data.get("recur_months"),
        }


class AudienceForm(CampaignForm):
    """Only the audience filters of the campaign form: the preview parses these."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in self.AUDIENCE:
                del self.fields[name]


class SurveySettingsForm(forms.Form):
    quiet_days = forms.IntegerField(label=_("Quiet period, days"), min_value=0, max_value=730)
    quiet_a = forms.IntegerField(
        label=_("Class A: quiet period, days"), min_value=0, max_value=730, required=False
    )
    quiet_b = forms.IntegerField(
        label=_("Class B: quiet period, days"), min_value=0, max_value=730, required=False
    )
    quiet_c = forms.IntegerField(
        label=_("Class C: quiet period, days"), min_value=0, max_value=730, required=False
    )
    resurvey_months = forms.IntegerField(
        label=_("Relationship survey: clients not surveyed for, months"),
        min_value=1,
        max_value=120,
    )
    send_rate_per_minute = forms.IntegerField(
        label=_("Emails per minute (0: no limit)"), min_value=0, max_value=1_000_000
    )
    company_head_name = forms.CharField(
        label=_("Company head (signs the invitation)"), max_length=200
    )
    company_head_title_ru = forms.CharField(label=_("Head's title (Russian)"), max_length=200)
    company_head_title_en = forms.CharField(label=_("Head's title (English)"), max_length=200)

    CLASSES = (("A", "quiet_a"), ("B", "quiet_b"), ("C", "quiet_c"))

    def __init__(self, *args, instance, **kwargs):
        by_class = instance.quiet_days_by_class or {}
        initial = {
            name: getattr(instance, name)
            for name in (
                "quiet_days",
                "resurvey_months",
                "send_rate_per_minute",
                "company_head_name",
                "company_head_title_ru",
                "company_head_title_en",
            )
        }
        initial.update({field: by_class.get(cls) for cls, field in self.CLASSES})
        super().__init__(*args, initial=initial, **kwargs)

    def to_data(self) -> dict:
        data = dict(self.cleaned_data)
        by_class = {}
        for cls, field in self.CLASSES:
            value = data.pop(field)
            if value is not None:
                by_class[cls] = value
        data["quiet_days_by_class"] = by_class
        return data


class CampaignFilter(FilterSet):
    """The campaign list: by status, kind and name."""

    name = django_filters.CharFilter(label=_("Name"), lookup_expr="icontains")

    class Meta:
        model = Campaign
        fields = ["status", "kind", "name"]
