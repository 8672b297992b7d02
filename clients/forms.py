from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import (
    Client,
    ContactPerson,
    Interaction,
    Product,
    ProductLine,
    Settlement,
    Tag,
    TargetSegment,
)
from clients.pickers import (
    CLIENTS,
    CONTACTS,
    PRODUCTS,
    ROLE_ACCOUNT_MANAGER,
    USERS,
    products_to_pick,
    users_for_role,
)
from crm.access import scope_for_user
from crm.models import User
from crm.pickers import RecordField

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ClientForm(forms.ModelForm):
    tag_names = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Comma-separated, e.g. «VIP, dealer».")
    )

    class Meta:
        model = Client
        fields = [
            "kind",
            "name",
            "inn",
            "external_id",
            "account_manager",
            "target_segment",
            "parent",
            "source",
            "industry",
            "activity",
            "customer_type",
            "employees",
            "has_branches",
            "year_founded",
            "birthday",
            "email",
            "phone",
            "city",
            "address_form",
            "notes",
        ]
        widgets = {"birthday": DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        fields = self.fields
        fields["account_manager"] = RecordField.replacing(
            fields["account_manager"],
            USERS,
            queryset=users_for_role(ROLE_ACCOUNT_MANAGER),
            params={"role": ROLE_ACCOUNT_MANAGER},
        )
        if not user.sees_everything:
            fields["account_manager"].disabled = True
            fields["account_manager"].initial = user
        parents = scope_for_user(Client.objects.all(), user)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        fields["parent"] = RecordField.replacing(
            fields["parent"],
            CLIENTS,
            queryset=parents,
            help_text=_("The head company, for subdivisions."),
            params={"exclude": self.instance.pk} if self.instance.pk else None,
        )
        if self.instance.pk:
            self.initial["tag_names"] = ", ".join(t.name for t in self.instance.tags.all())
        self.fields["external_id"].required = False

    def clean_external_id(self):
        return self.cleaned_data.get("external_id") or None

    def clean_tag_names(self):
        names = {n.strip()[:50] for n in self.cleaned_data["tag_names"].split(",") if n.strip()}
        if len(names) > 20:
            raise forms.ValidationError(_("At most 20 tags."))
        return sorted(names)

    def tags(self) -> list[Tag]:
        return [Tag.objects.get_or_create(name=name)[0] for name in self.cleaned_data["tag_names"]]

    def data_for_service(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "tag_names"}
        if not self.user.sees_everything:
            data.pop("account_manager", None)
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = ContactPerson
        fields = [
            "full_name",
            "position",
            "email",
            "phone",
            "birthday",
            "address_form",
            "is_primary",
            "greeting_consent",
            "survey_opt_out",
            "language",
            "external_id",
        ]
        widgets = {"birthday": DATE}

    def clean_external_id(self):
        return self.cleaned_data.get("external_id") or None


class SettlementForm(forms.ModelForm):
    class Meta:
        model = Settlement
        fields = ["date", "product", "amount", "margin", "document_number"]
        widgets = {"date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"] = RecordField.replacing(
            self.fields["product"], PRODUCTS, queryset=products_to_pick()
        )
        self.fields["date"].initial = timezone.localdate


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = [
            "kind",
            "direction",
            "occurred_at",
            "contact",
            "touchpoint",
            "summary",
            "outcome",
            "promise",
            "promise_due",
            "next_step_date",
            "next_step_goal",
            "next_step_product",
        ]
        widgets = {
            "occurred_at": DATETIME,
            "promise_due": DATE,
            "next_step_date": DATE,
            "summary": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"] = RecordField.replacing(
            self.fields["contact"],
            CONTACTS,
            queryset=client.contacts.all(),
            params={"client": client.pk},
        )
        self.fields["next_step_product"] = RecordField.replacing(
            self.fields["next_step_product"], PRODUCTS, queryset=products_to_pick()
        )
        self.fields["occurred_at"].initial = lambda: timezone.localtime().replace(
            second=0, microsecond=0
        )
        self.fields["occurred_at"].input_formats = [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
        ]

    def clean(self):
        data = super().clean()
        if data.get("promise_due") and not data.get("promise"):
            self.add_error("promise", _("Say what was promised for this due date."))
        if data.get("promise") and not data.get("promise_due"):
            self.add_error("promise_due", _("When is the promise due?"))
        if (data.get("next_step_goal") or data.get("next_step_product")) and not data.get(
            "next_step_date"
        ):
            self.add_error("next_step_date", _("Give the next step a date."))
        occurred = data.get("occurred_at")
        if occurred and occurred > timezone.now() + timedelta(minutes=5):
            self.add_error("occurred_at", _("A contact cannot be logged in the future."))
        next_date = data.get("next_step_date")
        if next_date and occurred and next_date < timezone.localdate(occurred):
            self.add_error("next_step_date", _("The next step cannot be before the contact."))
        return data


class ProductLineForm(forms.ModelForm):
    class Meta:
        model = ProductLine
        fields = ["name", "description"]


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["line", "name", "code", "price", "is_active"]


class TargetSegmentForm(forms.ModelForm):
    class Meta:
        model = TargetSegment
        fields = ["name", "description", "products"]
        widgets = {"products": forms.CheckboxSelectMultiple}
