"""API filters that confirm nothing: a filter on a related object (`?family=41`) takes the id as a
plain number and narrows the already scoped list, so an id outside the user's scope answers
exactly like an id that does not exist (an empty list), where django-filter's default would
check the id against every row of the table (400 for an unknown id, 200 for a known one)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend

#: The largest id any database here stores (a larger number is refused with a 400, not a 500).
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.Filter):
    field_class = IdField


class IdFilterSet(django_filters.FilterSet):
    """A FilterSet whose filters on related objects are `IdFilter`s."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class ScopedFilterBackend(DjangoFilterBackend):
    filterset_base = IdFilterSet
