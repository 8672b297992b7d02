from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from clients.models import Client, ContactPerson, Interaction
from clients.pickers import CLIENTS, CONTACTS, ROLE_ANY, ROLE_RESPONSIBLE, USERS, users_for_role
from crm.access import scope_for_user
from crm.models import User
from crm.pickers import SEARCH_SUFFIX, RecordField
from crm.validators import DateField
from feedback import services
from feedback.models import Complaint, Priority, Theme

TOUCHPOINTS = [("", "—"), *Interaction.Touchpoint.choices]
WEEKDAYS = [
    (1, _("Monday")),
    (2, _("Tuesday")),
    (3, _("Wednesday")),
    (4, _("Thursday")),
    (5, _("Friday")),
    (6, _("Saturday")),
    (7, _("Sunday")),
]


class ComplaintCreateForm(forms.Form):
    client = RecordField(CLIENTS, label=_("Client"), queryset=Client.objects.none())
    contact = RecordField(
        CONTACTS,
        label=_("Contact person"),
        queryset=ContactPerson.objects.none(),
        required=False,
        depends_on=["client"],
    )
    theme = forms.ModelChoiceField(label=_("Theme"), queryset=Theme.objects.none())
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices)
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), choices=TOUCHPOINTS, required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    served_by = RecordField(
        USERS, label=_("Served by"), queryset=User.objects.none(), required=False
    )
    responsible = RecordField(
        USERS,
        label=_("Responsible"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Empty: the client's account manager."),
        params={"role": ROLE_RESPONSIBLE},
        depends_on=["client"],
    )

    def __init__(self, *args, user, client=None, **kwargs):
        super().__init__(*args, **kwargs)
        clients = scope_for_user(Client.objects.all(), user)
        self.fields["client"].queryset = clients
        contacts = ContactPerson.objects.filter(client__in=clients)
        if client is not None:
            self.fields["client"].initial = client.pk
            self.fields["client"].widget = forms.HiddenInput()
            contacts = ContactPerson.objects.filter(client=client)
        posted_client = str(self.data.get("client", "")) if self.is_bound else ""
        typed_contact = self.is_bound and self.data.get("contact" + SEARCH_SUFFIX)
        if typed_contact and posted_client.isdigit() and len(posted_client) <= 18:
            # a contact typed without JavaScript is searched among the chosen client's
            contacts = contacts.filter(client_id=int(posted_client))
        self.fields["contact"].queryset = contacts
        self.fields["theme"].queryset = Theme.objects.filter(is_active=True)
        self.fields["served_by"].queryset = users_for_role(ROLE_ANY)
        # the responsible must be able to see the client (checked again by the service)
        self.fields["responsible"].queryset = users_for_role(ROLE_RESPONSIBLE, client)

    def clean(self):
        data = super().clean()
        client, contact = data.get("client"), data.get("contact")
        if client and contact and contact.client_id != client.pk:
            self.add_error("contact", _("The contact person belongs to another client."))
        return data


class ComplaintEditForm(forms.ModelForm):
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), choices=TOUCHPOINTS, required=False)

    class Meta:
        model = Complaint
        fields = services.EDITABLE_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "resolution": forms.Textarea(attrs={"rows": 3}),
            "corrective_action": forms.Textarea(attrs={"rows": 3}),
            "company_at_fault": forms.NullBooleanSelect(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        client = self.instance.client
        fields = self.fields
        fields["contact"] = RecordField.replacing(
            fields["contact"],
            CONTACTS,
            queryset=ContactPerson.objects.filter(client=client),
            params={"client": client.pk},
        )
        fields["served_by"] = RecordField.replacing(
            fields["served_by"], USERS, queryset=users_for_role(ROLE_ANY)
        )
        # who may see the client, and whoever is responsible now (kept if not changed)
        may_see = users_for_role(ROLE_RESPONSIBLE, client)
        current = User.objects.filter(pk=self.instance.responsible_id)
        fields["responsible"] = RecordField.replacing(
            fields["responsible"],
            USERS,
            queryset=may_see | current,
            params={"role": ROLE_RESPONSIBLE, "client": client.pk},
        )


class TransitionForm(forms.ModelForm):
    """The fields a step records (e.g. five whys and the fix when resolving), plus a note.
    Fields are not required here: the service's rule gives the message the user sees."""

    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    class Meta:
        model = Complaint
        fields: list[str] = []
        widgets = {
            "resolution": forms.Textarea(attrs={"rows": 3}),
            "corrective_action": forms.Textarea(attrs={"rows": 3}),
            "rejection_reason": forms.Textarea(attrs={"rows": 3}),
            "company_at_fault": forms.NullBooleanSelect(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.required = False


def transition_form_class(fields: tuple[str, ...]):
    model_fields = [f for f in fields if f != "note"]
    meta = type("Meta", (TransitionForm.Meta,), {"fields": model_fields})
    return type("StepForm", (TransitionForm,), {"Meta": meta})


class InformForm(forms.Form):
    via = forms.ChoiceField(
        label=_("How the client was informed"),
        choices=Complaint.Channel.choices,
        initial=Complaint.Channel.PHONE,
    )
    send_email = forms.BooleanField(
        label=_("Send the resolution to the contact person by email now"), required=False
    )
    language = forms.ChoiceField(label=_("Email language"), choices=settings.LANGUAGES)


HOURS = {"max_digits": 6, "decimal_places": 2, "min_value": Decimal("0.25")}


class SlaSettingsForm(forms.Form):
    """SLA targets in working hours (stored as minutes) and the working calendar."""

    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    work_start = forms.TimeField(label=_("Working day starts"))
    work_end = forms.TimeField(label=_("Working day ends"))
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)

    KINDS = (
        ("ack", _("acknowledge, h")),
        ("resolve", _("resolve, h")),
        ("ack_a", _("class A: acknowledge, h")),
        ("resolve_a", _("class A: resolve, h")),
    )

    def __init__(self, *args, instance, **kwargs):
        initial = {
            "working_days": instance.working_days,
            "work_start": instance.work_start,
            "work_end": instance.work_end,
            "time_zone": instance.time_zone,
        }
        for p, _label in Priority.choices:
            for k, _kl in self.KINDS:
                minutes = instance.targets.get(p, {}).get(k, 60)
                initial[f"{p}__{k}"] = Decimal(minutes) / 60
        super().__init__(*args, initial=initial, **kwargs)
        for p, plabel in Priority.choices:
            for k, klabel in self.KINDS:
                self.fields[f"{p}__{k}"] = forms.DecimalField(label=f"{plabel}: {klabel}", **HOURS)

    def rows(self):
        return [
            (plabel, [self[f"{p}__{k}"] for k, _kl in self.KINDS]) for p, plabel in Priority.choices
        ]

    def to_data(self) -> dict:
        cd = self.cleaned_data
        targets = {
            p: {k: int(round(cd[f"{p}__{k}"] * 60)) for k, _kl in self.KINDS}
            for p, _label in Priority.choices
        }
        return {
            "targets": targets,
            "working_days": cd["working_days"],
            "work_start": cd["work_start"],
            "work_end": cd["work_end"],
            "time_zone": cd["time_zone"].strip(),
        }


class ThemeForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["code", "name_en", "name_ru", "order", "is_active"]


DATE_INPUT = forms.DateInput(
    format="%Y-%m-%d", attrs={"type": "date", "class": "form-control form-control-sm"}
)


class PeriodForm(forms.Form):
    date_from = DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = DateField(label=_("To"), required=False, widget=DATE_INPUT)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The period must start before it ends."))
        return data
