"""Filtering of every list: one django-filter FilterSet per list (in its app's ``filters.py``),
shared by the page, the export and the API, with every reference filter scoped to the user and
the sane date range on every date filter.

- A filter such as ``?client=<id>`` or ``?contact=<id>`` accepts only rows the user may see
  (``crm.access.scope_if_owned``): another account manager's client is refused with the same
  400 "Select a valid choice" as an id that does not exist, so the answer reveals nothing.
- A page or an export builds the list's FilterSet with the user (``FilterSet(data, queryset=...,
  user=...)``) and reads it through ``filtered``: an invalid filter set changes nothing (the
  page shows ``filterset.errors``, the export answers 400), never a half-applied filter. The API
  (``ScopedFilterBackend``) answers 400 with the same messages.
- A FilterSet's ``Meta.fields`` are built by django-filter from the model fields. Here a date
  or datetime model field becomes a filter whose form field refuses a date outside
  ``crm.validators``' range (400 with the message instead of an overflow deeper down), for
  every app's lists at once; a declared date filter uses ``DateFilter`` below.
"""

from copy import deepcopy

import django_filters
from django import forms
from django.db import models
from django.db.models import QuerySet
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters import rest_framework as filters

from crm import validators
from crm.access import scope_if_owned


class DateFilter(django_filters.DateFilter):
    field_class = validators.DateField


class DateTimeFilter(django_filters.DateTimeFilter):
    field_class = validators.DateTimeField


class FilterSet(filters.FilterSet):
    """The base of every list's FilterSet. Given ``user`` (or a ``request`` with one), its
    reference filters accept only the rows that user may see."""

    FILTER_DEFAULTS = deepcopy(filters.FilterSet.FILTER_DEFAULTS)
    FILTER_DEFAULTS.update(
        {
            models.DateField: {"filter_class": DateFilter},
            models.DateTimeField: {"filter_class": DateTimeFilter},
        }
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)
        if self.user is not None:
            scope_filterset(self, self.user)


def style_widgets(form, names=None):
    """Bootstrap's small classes on a filter bar's widgets (``names``: only those fields):
    a select (a record picker too) gets ``form-select-sm``, a date, number or text input
    ``form-control-sm``; a date input is the browser's date picker, its value in ISO form."""
    for name, field in form.fields.items():
        if names is not None and name not in names:
            continue
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        elif isinstance(widget, forms.NumberInput | forms.TextInput):
            widget.attrs.setdefault("class", "form-control form-control-sm")
            if isinstance(widget, forms.DateInput):
                widget.input_type = "date"
                widget.format = "%Y-%m-%d"
    return form


def filtered(filterset) -> QuerySet:
    """The list ``filterset`` gives, or its whole queryset when a filter is not valid (the
    caller shows ``filterset.errors``): never a half-applied filter set."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.all()
    return filterset.qs


def filter_errors(filterset) -> dict:
    """``{field label: [messages]}`` of an invalid bound filter set, for the page's notice."""
    if not filterset.is_bound or filterset.is_valid():
        return {}
    form = filterset.form
    return {
        str(form.fields[name].label or name) if name in form.fields else name: errors
        for name, errors in form.errors.items()
    }


def scope_filterset(filterset, user):
    """Limit the choices of every model-choice filter of ``filterset`` to what ``user`` may
    see (owned models only). Returns the filterset; pages and exports call it too."""
    if getattr(filterset, "_scoped_for", None) is user:
        return filterset
    filterset._scoped_for = user
    for flt in filterset.filters.values():
        if isinstance(flt, ModelChoiceFilter | ModelMultipleChoiceFilter):
            queryset = flt.queryset
            if callable(queryset):
                queryset = queryset(filterset.request)
            if queryset is not None:
                flt.queryset = scope_if_owned(queryset, user)
    return filterset


class ScopedFilterBackend(filters.DjangoFilterBackend):
    filterset_base = FilterSet

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        # the filters were deep-copied for this filterset: scoping them touches no other request
        return scope_filterset(filterset, request.user)
