from django.contrib import admin

from common.admin_readonly import ReadOnlyAdmin
from common.paginators import EstimatedCountPaginator

from .models import LedgerEntry, PaymentEvent, TopUp


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


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "wallet_id", "credits", "amount_cents", "currency", "status", "provider_reference"]
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
