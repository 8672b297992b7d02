"""Forms of the deal pages: the deal (create / edit) with its lines, and the steps of the detail
page (move, win, lose, reopen). Every step carries the deal's ``version`` the user saw, so a
step from a stale page is refused by the service instead of overwriting a colleague's move."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import Client, ContactPerson, Product
from clients.pickers import (
    CLIENTS,
    CONTACTS,
    PRODUCTS,
    ROLE_ACCOUNT_MANAGER,
    ROLE_RESPONSIBLE,
    USERS,
    users_for_role,
)
from crm.access import scope_for_user
from crm.models import User
from crm.pickers import SEARCH_SUFFIX, RecordField
from crm.validators import DateField
from sales import configuration, services
from sales.models import (
    Deal,
    Pipeline,
    RefusalCategory,
    SalesSettings,
    SaleType,
    Stage,
    StageKind,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FIELDS = [
    "expected_close",
    "next_step_date",
    "proposal_valid_until",
    "invoice_due",
    "delivery_date",
    "survey_date",
    "protocol_sent_on",
]


def _sale_type_choices(derived: str | None):
    label = _("As derived from the client's purchases")
    if derived:
        label = _("As derived: %(type)s") % {"type": SaleType(derived).label}
    return [("", label), *SaleType.choices]


class DealForm(forms.ModelForm):
    """The deal's own fields. On a new deal also the client (fixed when the deal is opened from
    the client card) and the pipeline."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Deal
        fields = list(services.EDITABLE_FIELDS)
        widgets = dict.fromkeys(DATE_FIELDS, DATE)
        field_classes = dict.fromkeys(DATE_FIELDS, DateField)

    def __init__(self, *args, user, client=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        fields = self.fields
        new = self.instance.pk is None
        if new:
            clients = scope_for_user(Client.objects.all(), user)
            fields["client"] = RecordField(CLIENTS, label=_("Client"), queryset=clients)
            fields["pipeline"] = forms.ModelChoiceField(
                label=_("Pipeline"),
                queryset=Pipeline.objects.filter(is_active=True),
                empty_label=None,
            )
            contacts = ContactPerson.objects.filter(client__in=clients)
            if client is not None:
                fields["client"].initial = client.pk
                fields["client"].widget = forms.HiddenInput()
                contacts = ContactPerson.objects.filter(client=client)
            posted = str(self.data.get("client", "")) if self.is_bound else ""
            if self.is_bound and self.data.get("contact" + SEARCH_SUFFIX) and posted.isdigit():
                contacts = contacts.filter(client_id=int(posted[:18]))
            fields["contact"] = RecordField.replacing(
                fields["contact"], CONTACTS, queryset=contacts, depends_on=["client"]
            )
            fields["owner"] = RecordField.replacing(
                fields["owner"],
                USERS,
                queryset=users_for_role(ROLE_ACCOUNT_MANAGER),
                params={"role": ROLE_ACCOUNT_MANAGER},
            )
            fields["owner"].required = False
            fields["owner"].help_text = _("Empty: the client's account manager.")
            derived = None
        else:
            deal = self.instance
            fields["contact"] = RecordField.replacing(
                fields["contact"],
                CONTACTS,
                queryset=ContactPerson.objects.filter(client_id=deal.client_id),
                params={"client": deal.client_id},
            )
            current = User.objects.filter(pk=deal.owner_id)
            fields["owner"] = RecordField.replacing(
                fields["owner"],
                USERS,
                queryset=users_for_role(ROLE_RESPONSIBLE, deal.client) | current,
                params={"role": ROLE_RESPONSIBLE, "client": deal.client_id},
            )
            derived = deal.sale_type_derived
            fields["version"].initial = deal.version
            if deal.sale_type == deal.sale_type_derived:
                self.initial["sale_type"] = ""
        fields["sale_type"] = forms.ChoiceField(
            label=_("Sale type"),
            choices=_sale_type_choices(derived),
            required=False,
            help_text=_(
                "Derived from the client's settlements and the deal's product lines; "
                "choose another to override it."
            ),
        )
        fields["probability"].help_text = _(
            "Empty: the stage's default probability. Once set, a move never changes it."
        )
        if new:  # the new deal's own fields first
            self.order_fields(["client", "pipeline", "title", "contact", "owner"])

    def clean(self):
        data = super().clean()
        client, contact = data.get("client"), data.get("contact")
        if client and contact and contact.client_id != client.pk:
            self.add_error("contact", _("The contact person belongs to another client."))
        return data

    def _post_clean(self):
        # the model's own rules are checked by the service (the sale type may be empty here:
        # the derived one)
        pass

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in services.EDITABLE_FIELDS}
        for name in ("title", "next_step_goal"):
            data[name] = data[name] or ""
        return data


class DealLineForm(forms.Form):
    product = RecordField(
        PRODUCTS, label=_("Product"), queryset=Product.objects.none(), required=False
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
        required=False,
        help_text=_("Empty: 1."),
    )
    price = forms.DecimalField(
        label=_("Price"),
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the list price."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        if data.get("product") is None:
            if data.get("quantity") is not None or data.get("price") is not None:
                self.add_error("product", _("Choose the product of this row."))
        elif data.get("quantity") is None:
            data["quantity"] = Decimal("1")
        return data


class BaseLineFormSet(forms.BaseFormSet):
    def lines(self) -> list:
        return [
            services.LineInput(
                product=f.cleaned_data["product"],
                quantity=f.cleaned_data["quantity"],
                price=f.cleaned_data.get("price"),
            )
            for f in self.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("product") is not None
        ]


LineFormSet = forms.formset_factory(DealLineForm, formset=BaseLineFormSet, extra=2, can_delete=True)


def line_initial(deal: Deal) -> list[dict]:
    return [
        {"product": line.product_id, "quantity": line.quantity, "price": line.price}
        for line in deal.lines.all()
    ]


class StepForm(forms.Form):
    """A step of the detail page: carries the version of the deal the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, **kwargs)
        self.deal = deal
        self.fields["version"].initial = deal.version


def _stage_choice(stage: Stage) -> str:
    return f"{stage.order}. {stage.name}"


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _stage_choice(obj)


class MoveForm(StepForm):
    stage = StageChoiceField(label=_("Move to stage"), queryset=Stage.objects.none())

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, deal=deal, **kwargs)
        # every stage of the deal's pipeline but the one it is in; a lost stage is reached
        # through "Lose" (a refusal category and a note)
        self.fields["stage"].queryset = (
            Stage.objects.filter(pipeline_id=deal.pipeline_id, is_active=True)
            .exclude(pk=deal.stage_id)
            .exclude(kind=StageKind.LOST)
            .order_by("order", "id")
        )


class MoveAnyStageForm(StepForm):
    """The API's move: any stage id; the service says when it belongs to another pipeline."""

    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.all())


class WinForm(StepForm):
    pass


class LoseForm(StepForm):
    refusal = forms.ModelChoiceField(
        label=_("Refusal category"), queryset=RefusalCategory.objects.none(), required=False
    )
    refusal_note = forms.CharField(
        label=_("Why the client refused"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
    )

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, deal=deal, **kwargs)
        self.fields["refusal"].queryset = RefusalCategory.objects.filter(is_active=True)


class ReopenForm(StepForm):
    stage = StageChoiceField(
        label=_("Reopen into stage"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=_("the stage it was lost at / the last open stage"),
    )

    def __init__(self, *args, deal: Deal, **kwargs):
        super().__init__(*args, deal=deal, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            pipeline_id=deal.pipeline_id, kind=StageKind.OPEN, is_active=True
        ).order_by("order", "id")


STEP_FORMS = {"move": MoveForm, "win": WinForm, "lose": LoseForm, "reopen": ReopenForm}


# --- managers: pipelines, refusal categories, settings -----------------------------------------
class PipelineForm(forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = list(configuration.PIPELINE_FIELDS)


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = list(configuration.STAGE_FIELDS)
        widgets = {
            "exit_criteria_ru": forms.Textarea(attrs={"rows": 2}),
            "exit_criteria_en": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a row of a table under its headers: the label is for screen readers
        for field in self.fields.values():
            css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else ""
            if isinstance(field.widget, forms.CheckboxInput):
                css = "form-check-input"
            field.widget.attrs.update(
                {"class": css or "form-control form-control-sm", "aria-label": str(field.label)}
            )

    def _post_clean(self):
        # the service validates the stage (and the pipeline's set of stages) as a whole
        pass


StageFormSet = forms.inlineformset_factory(
    Pipeline, Stage, form=StageForm, extra=2, can_delete=True
)


def stage_rows(formset) -> list[dict]:
    """The formset's changed rows for ``configuration.pipeline_save(stages=…)``."""
    rows = []
    for form in formset.forms:
        if not form.has_changed():
            continue
        data = form.cleaned_data
        if not data:
            continue
        row = {name: data.get(name) for name in configuration.STAGE_FIELDS}
        if form.instance.pk:
            row["id"] = form.instance.pk
        row["delete"] = bool(data.get("DELETE"))
        rows.append(row)
    return rows


class RefusalForm(forms.ModelForm):
    class Meta:
        model = RefusalCategory
        fields = list(configuration.REFUSAL_FIELDS)


class SalesSettingsForm(forms.ModelForm):
    class Meta:
        model = SalesSettings
        fields = list(configuration.SETTINGS_FIELDS)
