"""The API's filter backend: django-filter with the sane date range on every date filter.

Viewsets list their filters with ``filterset_fields``; django-filter builds them from the model
fields. Here a date or datetime model field becomes a filter whose form field refuses a date
outside ``crm.validators``' range (400 with the message instead of an overflow deeper down),
for every app's viewsets at once.
"""

from copy import deepcopy

import django_filters
from django.db import models
from django_filters import rest_framework as filters

from crm import validators


class DateFilter(django_filters.DateFilter):
    field_class = validators.DateField


class DateTimeFilter(django_filters.DateTimeFilter):
    field_class = validators.DateTimeField


class FilterSet(filters.FilterSet):
    FILTER_DEFAULTS = deepcopy(filters.FilterSet.FILTER_DEFAULTS)
    FILTER_DEFAULTS.update(
        {
            models.DateField: {"filter_class": DateFilter},
            models.DateTimeField: {"filter_class": DateTimeFilter},
        }
    )


class FilterBackend(filters.DjangoFilterBackend):
    filterset_base = FilterSet
