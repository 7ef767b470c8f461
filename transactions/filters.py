from datetime import UTC

import django_filters
from django import forms

from .models import LedgerEntry, TransactionType

MAX_CREDITS = 2_000_000_000


class TypeListFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`?transaction_type=spend` or `?transaction_type=spend,free_use`."""


class UtcDateTimeField(forms.DateTimeField):
    """A moment in UTC. PostgreSQL refuses offsets past +-15:59 (`+17:12` used to be a 500), and a
    moment near year 1 or 9999 may not exist in UTC at all: both are a 400."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Enter a date and time that exists in UTC.", code="invalid") from None


class UtcDateTimeFilter(django_filters.DateTimeFilter):
    field_class = UtcDateTimeField


class LedgerFilter(django_filters.FilterSet):
    transaction_type = TypeListFilter(choices=TransactionType.choices, lookup_expr="in")
    action_type = django_filters.CharFilter(max_length=64)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", min_value=0, max_value=MAX_CREDITS, widget=forms.NumberInput
    )
    max_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", min_value=0, max_value=MAX_CREDITS, widget=forms.NumberInput
    )

    class Meta:
        model = LedgerEntry
        fields = ["transaction_type", "action_type", "created_after", "created_before", "min_amount", "max_amount"]
