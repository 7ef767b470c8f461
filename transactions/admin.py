from django.contrib import admin

from common.admin_readonly import ReadOnlyAdmin
from common.paginators import EstimatedCountPaginator

from .models import LedgerEntry


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "created_at", "wallet_id", "username", "transaction_type", "amount", "delta", "balance_after",
        "action_type", "reference", "actor",
    ]
    list_filter = ["transaction_type", "action_type", "created_at"]
    list_select_related = ["wallet__user", "actor"]
    search_fields = ["=wallet__user__username", "reference", "description", "=idempotency_key"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["wallet", "actor"]

    @admin.display(ordering="wallet__user__username")
    def username(self, entry):
        return entry.wallet.user.username
