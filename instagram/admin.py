from django.contrib import admin

from common.admin_readonly import ReadOnlyAdmin

from .models import Access


@admin.register(Access)
class AccessAdmin(ReadOnlyAdmin):
    # `user` is who paid (the wallet's owner), `profile` the Instagram profile paid for. (The model's
    # own `username` field is the profile's, hence not the WalletOwnerColumn of the other lists.)
    list_display = ["user", "action_type", "profile", "expires_at", "created_at"]
    list_filter = ["action_type"]
    list_select_related = ["wallet__user"]
    search_fields = ["=username", "=wallet__user__username"]
    show_full_result_count = False

    @admin.display(description="user", ordering="wallet__user__username")
    def user(self, access):
        return access.wallet.user.username

    @admin.display(description="profile", ordering="username")
    def profile(self, access):
        return f"@{access.username}"
