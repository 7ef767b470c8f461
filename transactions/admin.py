from django.contrib import admin

from common.admin_readonly import ReadOnlyAdmin, WalletOwnerColumn
from common.paginators import EstimatedCountPaginator

from .models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    list_display = [
        "id", "created_at", "username", "transaction_type", "delta", "balance_after", "action_type", "reference",
        "reason", "actor",
    ]
    list_filter = ["transaction_type", "action_type", "created_at"]
    list_select_related = ["wallet__user", "actor"]
    search_fields = ["=wallet__user__username", "reference", "description", "=idempotency_key"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["wallet", "actor"]

    @admin.display(description="reason")
    def reason(self, entry):
        """The description: for an adjustment, the reason the staff member gave."""
        return entry.description
