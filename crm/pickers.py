"""The record picker: one way for a form to pick a client, a contact, a product or a user.

A form field (``RecordField``) names a ``Lookup`` — the scoped JSON endpoint that searches the
records, the search itself and the text that shows a record. Its widget (``RecordPicker``)
renders a ``<select data-picker=...>`` holding only the empty choice and the selected record
(never every row of a table); ``static/js/picker.js`` turns it into a searchable, paged Tom
Select that loads pages of ``{"results": [{"id", "text"}], "more"}`` from the endpoint.

Without JavaScript the select still shows (and keeps) the selected record, and a text box
beside it takes a name, tax id, email or id: the field resolves it with the endpoint's own
search (one match is taken; several are listed in the error, so the user can type more).

The field validates against its ``queryset`` — the records the user may pick, scoped as
everywhere else — so an id typed or forged outside the endpoint's answers is refused with the
usual "Select a valid choice". How a new form uses it: docs/ui-building-blocks.md.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django.http import JsonResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PAGE_SIZE = 20
# Deeper than this nobody scrolls: the search narrows instead. Bounds the OFFSET of a page.
MAX_PAGE = 50
MAX_QUERY_LENGTH = 100
SEARCH_SUFFIX = "__search"  # the no-JavaScript text box: <name>__search
# how many matches the no-JavaScript error lists
LISTED_MATCHES = 5


@dataclass(frozen=True)
class Lookup:
    """One kind of record a form can pick: its endpoint, its search and its text."""

    url_name: str
    # rows of the queryset matching the typed text, in the order the picker lists them
    search: Callable[[QuerySet, str], QuerySet]
    order: tuple[str, ...] = ("pk",)
    # the text of a record in the picker (the same in the endpoint and the rendered form)
    label: Callable[[Model], str] = str
    # columns the label needs (``QuerySet.only``); empty: all
    columns: tuple[str, ...] = ()
    select_related: tuple[str, ...] = field(default_factory=tuple)
    # query parameters without which the endpoint has nothing to list (contacts: ``client``)
    requires: tuple[str, ...] = ()
    # what the picker says while a required parameter is empty
    waiting: str = ""
    # what the no-JavaScript text box takes ("a name, tax id or id")
    hint: str = ""

    def rows(self, queryset: QuerySet, text: str = "") -> QuerySet:
        text = (text or "").strip()[:MAX_QUERY_LENGTH]
        if text:
            queryset = self.search(queryset, text)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.columns:
            queryset = queryset.only(*self.columns)
        return queryset.order_by(*self.order)


class BadLookup(ValueError):
    """A lookup request with a parameter that is not what the endpoint takes (a 400)."""


def positive_int(value, name: str, *, required: bool = False) -> int | None:
    """A query parameter that must be a positive integer (an id, a page number)."""
    if value in (None, ""):
        if required:
            raise BadLookup(_("The parameter “%(name)s” is required.") % {"name": name})
        return None
    text = str(value).strip()
    # at most 18 digits: a larger number overflows the database's integer, never an id
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise BadLookup(
            _("The parameter “%(name)s” must be a positive whole number.") % {"name": name}
        )
    return int(text)


def lookup_page(request, lookup: Lookup, queryset: QuerySet) -> JsonResponse:
    """The endpoint's answer: one page of ``queryset`` (already scoped to the user) matching
    ``?q=``, as ``{"results": [{"id", "text"}], "more": bool}``. One query: a page and one
    row more to tell whether another page follows (no COUNT over a large table)."""
    try:
        page = positive_int(request.GET.get("page"), "page") or 1
    except BadLookup as exc:
        return bad_lookup(exc)
    if page > MAX_PAGE:
        return JsonResponse({"results": [], "more": False})
    start = (page - 1) * PAGE_SIZE
    rows = list(lookup.rows(queryset, request.GET.get("q", ""))[start : start + PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE and page < MAX_PAGE
    results = [{"id": row.pk, "text": lookup.label(row)} for row in rows[:PAGE_SIZE]]
    return JsonResponse({"results": results, "more": more})


def bad_lookup(exc: Exception, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": str(exc), "results": [], "more": False}, status=status)


class Typed(str):
    """What the user typed into the no-JavaScript text box (not an id from the select)."""


class RecordPicker(forms.Select):
    """A ``<select>`` holding only the empty choice and the selected record, marked for
    ``picker.js``; plus a ``<noscript>`` text box for browsers without JavaScript."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.url_name = ""
        self.params: dict = {}
        self.depends_on: tuple[str, ...] = ()
        self.requires: tuple[str, ...] = ()
        self.waiting = ""
        self.hint = ""

    def __deepcopy__(self, memo):
        obj = super().__deepcopy__(memo)
        obj.params = dict(self.params)
        return obj

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["data-picker"] = reverse(self.url_name)
        if self.is_required:
            widget_attrs["data-picker-required"] = "1"
        if self.params:
            widget_attrs["data-picker-params"] = json.dumps(self.params)
        if self.depends_on:
            widget_attrs["data-picker-depends"] = " ".join(self.depends_on)
        if self.requires:
            widget_attrs["data-picker-requires"] = " ".join(self.requires)
        # the script's messages, in the page's language (no JavaScript catalogue needed)
        widget_attrs.setdefault("data-placeholder", _("Type to search…"))
        widget_attrs["data-msg-none"] = _("Nothing found")
        widget_attrs["data-msg-more"] = _("Loading more…")
        widget_attrs["data-msg-end"] = _("No more results")
        if self.waiting:
            widget_attrs["data-msg-wait"] = str(self.waiting)
        return context

    def use_required_attribute(self, initial):
        # not on the select: without JavaScript the text box beside it may carry the choice;
        # the field still refuses an empty value, and the script marks the Tom Select
        return False

    def format_value(self, value):
        if isinstance(value, Typed):
            return [value]
        return super().format_value(value)

    def optgroups(self, name, value, attrs=None):
        """The empty choice and the selected records only: one query, whatever the table."""
        iterator = self.choices
        options = []
        empty_label = getattr(iterator.field, "empty_label", None)
        if empty_label is not None:
            options.append(("", empty_label))
        ids = [
            v
            for v in value
            if v and not isinstance(v, Typed) and str(v).isdigit() and len(str(v)) <= 18
        ]
        if ids:
            options.extend(iterator.choice(obj) for obj in iterator.queryset.filter(pk__in=ids))
        selected_values = {str(v) for v in value}
        groups = []
        for index, (option_value, label) in enumerate(options):
            selected = str(option_value) in selected_values and not (
                option_value == "" and any(selected_values - {""})
            )
            groups.append(
                (
                    None,
                    [self.create_option(name, option_value, label, selected, index, attrs=attrs)],
                    index,
                )
            )
        return groups

    def value_from_datadict(self, data, files, name):
        typed = (data.get(name + SEARCH_SUFFIX) or "").strip()
        if typed:
            return Typed(typed[:MAX_QUERY_LENGTH])
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + SEARCH_SUFFIX not in data

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        typed = value if isinstance(value, Typed) else ""
        if self.attrs.get("disabled") or (attrs or {}).get("disabled"):
            return select
        return format_html(
            '{}<noscript><input type="text" name="{}" value="{}" class="form-control mt-1" '
            'placeholder="{}" aria-label="{}"></noscript>',
            select,
            name + SEARCH_SUFFIX,
            typed,
            _("…or type %(what)s") % {"what": self.hint} if self.hint else _("…or type"),
            _("Search"),
        )


class RecordField(forms.ModelChoiceField):
    """A ModelChoiceField picked through a ``Lookup``'s endpoint. ``params``: fixed query
    parameters of the endpoint (``{"role": "responsible"}``); ``depends_on``: names of other
    fields of the form whose value is sent along (``client`` for contacts) — the picker is
    emptied and reloaded when one of them changes."""

    widget = RecordPicker
    default_error_messages = {
        "no_match": gettext_lazy("Nothing matches “%(text)s”."),
        "many_matches": gettext_lazy(
            "Several match “%(text)s”: %(matches)s. Type more to tell them apart."
        ),
    }

    def __init__(
        self,
        lookup: Lookup,
        *,
        queryset: QuerySet,
        params: dict | None = None,
        depends_on: Iterable[str] = (),
        **kwargs,
    ):
        self.lookup = lookup
        super().__init__(queryset, **kwargs)
        widget = self.widget
        if isinstance(widget, RecordPicker):
            widget.url_name = lookup.url_name
            widget.params = dict(params or {})
            widget.depends_on = tuple(depends_on)
            widget.requires = lookup.requires
            widget.waiting = lookup.waiting
            widget.hint = lookup.hint

    @classmethod
    def replacing(cls, field: forms.Field, lookup: Lookup, *, queryset: QuerySet, **kwargs):
        """The picker in place of a model form's generated field (same label, help text,
        required, disabled and initial)."""
        kwargs.setdefault("required", field.required)
        kwargs.setdefault("label", field.label)
        kwargs.setdefault("help_text", field.help_text)
        kwargs.setdefault("disabled", field.disabled)
        kwargs.setdefault("initial", field.initial)
        return cls(lookup, queryset=queryset, **kwargs)

    def label_from_instance(self, obj):
        return self.lookup.label(obj)

    def to_python(self, value):
        if isinstance(value, Typed):
            return self._resolve(str(value))
        if isinstance(value, str) and len(value) > 18 and value.strip().isdigit():
            # beyond any id (and the database's integer): refused like an unknown id
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)

    def _resolve(self, text: str):
        """The one record the typed text names (the endpoint's search, or an id)."""
        matches = list(self.lookup.rows(self.queryset, text)[: LISTED_MATCHES + 1])
        if len(matches) == 1:
            return matches[0]
        if not matches and text.isdigit() and len(text) <= 18:
            record = self.queryset.filter(pk=int(text)).first()
            if record is not None:
                return record
        if not matches:
            raise forms.ValidationError(
                self.error_messages["no_match"], code="no_match", params={"text": text}
            )
        listed = "; ".join(self.lookup.label(m) for m in matches[:LISTED_MATCHES])
        if len(matches) > LISTED_MATCHES:
            listed += "; …"
        raise forms.ValidationError(
            self.error_messages["many_matches"],
            code="many_matches",
            params={"text": text, "matches": listed},
        )


class RecordFilter(django_filters.ModelChoiceFilter):
    """A FilterSet's filter that picks its record through the picker: ``RecordFilter(
    lookup=USERS, queryset=..., params={"role": "account_manager"})``. ``scope_filterset``
    scopes its queryset like any model-choice filter's."""

    field_class = RecordField
