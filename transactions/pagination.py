from functools import partial

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from common.pagination import PageNumberPagination


class KnownCountPaginator(Paginator):
    def __init__(self, *args, known_count: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self):
        return self.known_count if self.known_count is not None else super().count


class LedgerPagination(PageNumberPagination):
    """An unfiltered history takes its count from the wallet's row counter instead of a COUNT(*)
    over every row the user ever made; filtered and searched lists count what they match."""

    def paginate_queryset(self, queryset, request, view=None):
        known = view.known_count() if view is not None and hasattr(view, "known_count") else None
        self.django_paginator_class = partial(KnownCountPaginator, known_count=known)
        return super().paginate_queryset(queryset, request, view)
