from django.contrib import admin
from django.utils.text import Truncator

from common.admin_readonly import ReadOnlyAdmin, WalletOwnerColumn
from common.paginators import EstimatedCountPaginator

from .models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    list_display = [
        "id", "when", "username", "kind", "delta", "balance", "action_type", "reference", "reason", "actor",
    ]
    list_filter = ["transaction_type", "action_type", "created_at"]
    list_select_related = ["wallet__user", "wallet__team", "actor", "member"]
    search_fields = ["=wallet__user__username", "reference", "description", "=idempotency_key"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["wallet", "actor"]

    @admin.display(description="created at (UTC)", ordering="created_at")
    def when(self, entry):
        """Compact, so that ten columns fit 1400 px: 2026-12-03 19:14:05."""
        return f"{entry.created_at:%Y-%m-%d %H:%M:%S}"

    @admin.display(description="reason")
    def reason(self, entry):
        """The description (for an adjustment, the reason the staff member gave), cut so that the list
        fits a laptop's width; the row's page has it whole."""
        return Truncator(entry.description).chars(40)

    # Short headers: ten columns in 1400 px.
    @admin.display(description="type", ordering="transaction_type")
    def kind(self, entry):
        return entry.get_transaction_type_display()

    @admin.display(description="balance", ordering="balance_after")
    def balance(self, entry):
        return entry.balance_after

    def get_queryset(self, request):
        # A row's page is titled with the wallet's owner (LedgerEntry.__str__): fetched with the row.
        return super().get_queryset(request).select_related("wallet__user", "wallet__team")
