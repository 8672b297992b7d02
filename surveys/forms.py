"""The answer form, built from the invitation's questionnaire: radio inputs (styled as big
buttons) that work without JavaScript."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import User
from surveys.models import COMMENT_MAX_LENGTH, Questionnaire

NPS_CHOICES = [(str(n), str(n)) for n in range(11)]
ITEM_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


class EmployeeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):  # names only: no email, no login
        return obj.get_full_name() or obj.username


class AnswerForm(forms.Form):
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def __init__(self, *args, questionnaire: Questionnaire, items, anonymous: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire = questionnaire
        self.item_fields = []
        if questionnaire.ask_nps:
            self.fields["nps"] = forms.ChoiceField(
                label=_("How likely are you to recommend us to a friend or colleague?"),
                choices=NPS_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                error_messages={"required": _("Please choose a score from 0 to 10.")},
            )
        for item in items:
            name = f"item_{item.pk}"
            self.fields[name] = forms.ChoiceField(
                label=item.text("text"),
                choices=ITEM_CHOICES,
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                required=False,
            )
            self.item_fields.append(name)
        if not questionnaire.ask_comment:
            del self.fields["comment"]
        if questionnaire.ask_liked:
            self.fields["liked"] = forms.CharField(
                label=_("What did you like?"),
                required=False,
                max_length=COMMENT_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
        if questionnaire.ask_best_employee:
            self.fields["best_employee"] = EmployeeChoice(
                label=_("Who of our staff helped you best?"),
                queryset=User.objects.filter(is_active=True).order_by("last_name", "first_name"),
                required=False,
                empty_label=_("— nobody in particular —"),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        if anonymous:
            self.fields["may_contact"] = forms.BooleanField(
                label=_("If something went wrong, you may contact me about it"),
                help_text=_("Only then is your answer passed on with your name."),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def _options(self, name: str) -> list[dict]:
        """A score field's radio inputs as plain values: the page writes the inputs itself
        (a widget template rendered per radio cost most of the page's time)."""
        bound = self[name]
        value = str(bound.value()) if bound.value() not in (None, "") else None
        return [
            {"value": v, "label": label, "id": f"id_{name}_{i}", "checked": str(v) == value}
            for i, (v, label) in enumerate(self.fields[name].choices)
        ]

    @property
    def nps_options(self) -> list[dict]:
        return self._options("nps") if "nps" in self.fields else []

    @property
    def item_scales(self) -> list[tuple]:
        """(bound field, its radio inputs) of each CSAT item."""
        return [(self[name], self._options(name)) for name in self.item_fields]

    @staticmethod
    def posted(post, *, questionnaire: Questionnaire, items, anonymous: bool) -> dict:
        """The service's data straight from a POST, for the fast path: the answer service
        checks every value itself, and the form is built only when it refuses something (to
        show the messages), not for every answer."""
        data = {
            "nps": post.get("nps") if questionnaire.ask_nps else None,
            "items": {
                item.pk: post.get(f"item_{item.pk}")
                for item in items
                if post.get(f"item_{item.pk}") not in (None, "")
            },
            "comment": post.get("comment", "") if questionnaire.ask_comment else "",
            "liked": post.get("liked", "") if questionnaire.ask_liked else "",
            "best_employee": (post.get("best_employee") or None)
            if questionnaire.ask_best_employee
            else None,
            "may_contact": anonymous
            and forms.CheckboxInput().value_from_datadict(post, None, "may_contact"),
        }
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "nps": data.get("nps"),
            "items": {
                int(name.split("_", 1)[1]): data[name]
                for name in self.item_fields
                if data.get(name)
            },
            "comment": data.get("comment", ""),
            "liked": data.get("liked", ""),
            "best_employee": data.get("best_employee"),
            "may_contact": data.get("may_contact", False),
        }
