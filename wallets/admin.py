"""Wallets in the admin: balances are read-only; every change goes through the ledger service."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from common.admin_readonly import ReadOnlyAdmin, WalletOwnerColumn
from common.exceptions import DomainError

from . import services
from .admin_forms import AdjustCreditsForm, GrantCreditsForm
from .models import Access, AllowanceUsage, Grant, Hold, Membership, Recharge, Team, Wallet, WalletStatus


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    # Six columns that fit a laptop screen; email, holds and the cycle are on each wallet's page.
    list_display = ["owner", "current_balance", "monthly_balance", "purchased_balance", "package", "status"]
    list_filter = ["status", "package"]
    list_select_related = ["user", "team", "package"]
    search_fields = ["user__username", "user__email", "team__name"]
    show_full_result_count = False
    fields = [
        "user", "package", "status", "total_balance", "monthly_balance", "purchased_balance", "bonus_balance",
        "reserved", "billing_cycle_start", "created_at", "updated_at",
    ]
    readonly_fields = [
        "user", "status", "total_balance", "monthly_balance", "purchased_balance", "bonus_balance", "reserved",
        "billing_cycle_start", "created_at", "updated_at",
    ]
    actions = ["lock_wallets", "unlock_wallets", "adjust_credits", "grant_credits"]
    change_form_template = "admin/wallets/wallet/change_form.html"

    def has_add_permission(self, request):
        return False  # wallets come with their users

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger keeps them

    @admin.display(description="owner", ordering="user__username")
    def owner(self, wallet):
        return wallet.owner_name

    @admin.display(description="balance")
    def current_balance(self, wallet):
        return wallet.current_balance

    @admin.display(description="total balance")
    def total_balance(self, wallet):
        """What the customer sees as their balance: the three buckets together (reserved included)."""
        return wallet.current_balance

    def _set_status(self, request, queryset, status):
        for user_id in queryset.values_list("pk", flat=True):
            services.wallet_set_status(user_id=user_id, status=status, actor=request.user)
        self.message_user(request, f"{queryset.count()} wallet(s) {status}.", messages.SUCCESS)

    @admin.action(description="Lock selected wallets")
    def lock_wallets(self, request, queryset):
        self._set_status(request, queryset, WalletStatus.LOCKED)

    @admin.action(description="Unlock selected wallets")
    def unlock_wallets(self, request, queryset):
        self._set_status(request, queryset, WalletStatus.ACTIVE)

    @admin.action(description="Adjust credits of selected wallets")
    def adjust_credits(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:wallets_wallet_adjust')}?ids={ids}")

    @admin.action(description="Grant promo, trial or compensation credits to selected wallets")
    def grant_credits(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:wallets_wallet_grant')}?ids={ids}")

    def get_urls(self):
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="wallets_wallet_adjust"),
            path("grant/", self.admin_site.admin_view(self.grant_view), name="wallets_wallet_grant"),
            *super().get_urls(),
        ]

    def grant_view(self, request):
        """One set-based grant (one statement per batch of wallets) to the selected wallets, or to
        every wallet of a package when one is chosen."""
        if not self.has_change_permission(request):
            return redirect("admin:index")
        ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk.isdigit()]
        wallets = Wallet.objects.filter(pk__in=ids).select_related("user")
        form = GrantCreditsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            target = {"package_id": data["package"].pk} if data["package"] else {"user_ids": ids}
            expires_at = timezone.now() + timedelta(days=data["expires_in_days"]) if data["expires_in_days"] else None
            try:
                outcome = services.credits_grant(
                    amount=data["amount"], reason=data["reason"], source=data["source"], expires_at=expires_at,
                    priority=data["priority"], actor=request.user, **target,
                )
            except DomainError as error:
                self.message_user(request, error.detail, messages.ERROR)
            else:
                self.message_user(
                    request, f"Granted {outcome.amount} {outcome.source} credits to {outcome.wallets} wallet(s).",
                    messages.SUCCESS,
                )
                return redirect("admin:wallets_wallet_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "wallets": wallets,
                   "title": "Grant credits", "opts": self.model._meta, "submit_label": "Grant credits"}
        return render(request, "admin/wallets/grant.html", context)

    def adjust_view(self, request):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk.isdigit()]
        wallets = Wallet.objects.filter(pk__in=ids).select_related("user")
        form = AdjustCreditsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            for wallet in wallets:
                try:
                    entry = services.credits_adjust(
                        user_id=wallet.pk,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                except DomainError as error:
                    self.message_user(request, f"{wallet.owner_name}: {error.detail}", messages.ERROR)
                else:
                    self.message_user(
                        request, f"{wallet.owner_name}: {entry.delta:+d} credits, balance {entry.balance_after}.", messages.SUCCESS
                    )
            return redirect("admin:wallets_wallet_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "wallets": wallets, "title": "Adjust credits",
                   "opts": self.model._meta, "submit_label": "Adjust credits"}
        return render(request, "admin/wallets/adjust.html", context)


@admin.register(Grant)
class GrantAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    """Grants are written by the ledger service only (staff give them from the wallets list)."""

    list_select_related = ["wallet__user", "wallet__team"]
    list_display = ["id", "username", "source", "amount", "remaining", "held", "priority", "expires_at", "reason"]
    list_filter = ["source", "expired_at"]
    search_fields = ["=wallet__user__username", "reason", "reference"]
    show_full_result_count = False


@admin.register(Hold)
class HoldAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    list_select_related = ["wallet__user", "wallet__team"]
    list_display = ["id", "username", "action_type", "amount", "free_units", "reference", "status", "expires_at"]
    list_filter = ["status", "action_type"]
    search_fields = ["=wallet__user__username", "reference"]
    show_full_result_count = False


@admin.register(AllowanceUsage)
class AllowanceUsageAdmin(WalletOwnerColumn, ReadOnlyAdmin):
    list_select_related = ["wallet__user", "wallet__team"]
    list_display = ["username", "period", "action_type", "used", "reserved"]
    list_filter = ["period", "action_type"]
    search_fields = ["=wallet__user__username"]


User = get_user_model()
DEACTIVATE_HINT = (
    "Users are never deleted: their wallet and ledger are kept for the accounts. To remove someone, "
    "untick “Active” (or use the “Deactivate selected users” action): they can no longer sign in or use the API."
)


class CreditsUserAdmin(UserAdmin):
    """A user owns a wallet and an immutable ledger (which the database protects from deletion), so
    staff deactivate people instead of deleting them: no delete button, a hint, and a bulk action."""

    actions = ["deactivate_users"]
    fieldsets = [
        (name, {**options, "description": DEACTIVATE_HINT} if name == "Permissions" else options)
        for name, options in UserAdmin.fieldsets
    ]

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self.message_user(request, DEACTIVATE_HINT, messages.INFO)
        return super().changelist_view(request, extra_context)

    @admin.action(description="Deactivate selected users (they can no longer sign in; history is kept)")
    def deactivate_users(self, request, queryset):
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"{count} user(s) deactivated.", messages.SUCCESS)


admin.site.unregister(User)
admin.site.register(User, CreditsUserAdmin)


@admin.register(Access)
class AccessAdmin(ReadOnlyAdmin):
    # `user` is who paid (the wallet's owner), `resource` what was paid for (for instagram's actions,
    # a profile's username).
    list_display = ["user", "action_type", "resource", "expires_at", "created_at"]
    list_filter = ["action_type"]
    list_select_related = ["wallet__user", "wallet__team"]
    search_fields = ["=reference", "=wallet__user__username"]
    show_full_result_count = False

    @admin.display(description="user", ordering="wallet__user__username")
    def user(self, access):
        return access.wallet.owner_name

    @admin.display(description="resource", ordering="reference")
    def resource(self, access):
        return access.reference


@admin.register(Recharge)
class RechargeAdmin(ReadOnlyAdmin):
    list_display = ["id", "wallet", "credits", "status", "period", "payment_intent", "failure", "created_at"]
    list_filter = ["status", "period"]
    list_select_related = ["wallet__user", "wallet__team"]
    search_fields = ["=wallet__user__username", "=payment_intent"]
    show_full_result_count = False


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "monthly_cap", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams, their members, roles and caps. Staff may change roles and caps or add and remove
    members (the database keeps one owner per team and a user in one team); teams themselves are
    made by their owners (`POST api/credits/team`), each with a wallet of its own."""

    list_display = ["name", "wallet", "members", "created_at"]
    list_select_related = ["wallet__team"]
    search_fields = ["name", "=memberships__user__username"]
    fields = ["name", "wallet", "created_at"]
    readonly_fields = ["wallet", "created_at"]
    inlines = [MembershipInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the wallet and its ledger stay

    @admin.display(description="members")
    def members(self, team):
        return team.memberships.count()
