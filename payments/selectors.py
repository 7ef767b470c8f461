"""Reads of top-ups, always scoped to one wallet."""

from django.db.models import QuerySet

from .models import TopUp


def top_up_list(*, wallet_id: int) -> QuerySet[TopUp]:
    """The wallet's top-ups, newest first."""
    return TopUp.objects.filter(wallet_id=wallet_id).order_by("-created_at", "-id")
