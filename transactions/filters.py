import django_filters
from django import forms

from .models import LedgerEntry, TransactionType

MAX_CREDITS = 2_000_000_000


class TypeListFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`?transaction_type=spend` or `?transaction_type=spend,free_use`."""


class LedgerFilter(django_filters.FilterSet):
    transaction_type = TypeListFilter(choices=TransactionType.choices, lookup_expr="in")
    action_type = django_filters.CharFilter(max_length=64)
    created_after = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.DateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", min_value=0, max_value=MAX_CREDITS, widget=forms.NumberInput
    )
    max_amount = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", min_value=0, max_value=MAX_CREDITS, widget=forms.NumberInput
    )

    class Meta:
        model = LedgerEntry
        fields = ["transaction_type", "action_type", "created_after", "created_before", "min_amount", "max_amount"]
