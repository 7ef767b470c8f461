from django.contrib import admin

from common.admin_readonly import ReadOnlyAdmin, WalletOwnerColumn
from common.paginators import EstimatedCountPaginator

from .models import PaymentEvent, Subscription, TopUp


@admin.register(TopUp)
class TopUpAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    list_display = ["id", "created_at", "username", "credits", "amount_cents", "currency", "status", "provider_reference"]
    list_select_related = ["wallet__user", "wallet__team"]
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


@admin.register(Subscription)
class SubscriptionAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    """Subscriptions as Stripe's webhooks left them; changes are made at Stripe (or by the owner)."""

    list_display = ["stripe_subscription_id", "username", "package", "status", "current_period_start",
                    "current_period_end", "cancel_at_period_end", "pending_package", "upgrade_to", "locked_wallet"]
    list_select_related = ["wallet__user", "wallet__team", "package", "pending_package", "upgrade_to"]
    list_filter = ["status", "cancel_at_period_end", "package"]
    search_fields = ["=wallet__user__username", "=stripe_subscription_id", "=customer_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["wallet"]
