from django.contrib import admin

from credits_platform.admin_readonly import ReadOnlyAdmin, WalletOwnerColumn
from credits_platform.paginators import EstimatedCountPaginator

from .models import LedgerEntry, PaymentEvent, TopUp


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


@admin.register(TopUp)
class TopUpAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    list_display = ["id", "created_at", "username", "credits", "amount_cents", "currency", "status", "provider_reference"]
    list_select_related = ["wallet__user"]
    list_filter = ["status", "created_at"]
    search_fields = ["=wallet__user__username", "=provider_reference"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["wallet", "ledger_entry"]


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_type", "received_at", "processed_at", "error"]
    list_filter = ["event_type"]
    search_fields = ["=event_id"]
    show_full_result_count = False
