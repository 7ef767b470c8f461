from django.contrib import admin


class WalletOwnerColumn:
    """A `user` column (the owner's username, or the team's name) for models keyed by wallet: staff
    search and think in names, not wallet ids. Pair with list_select_related = ["wallet__user",
    "wallet__team"]."""

    @admin.display(description="user", ordering="wallet__user__username")
    def username(self, obj):
        return obj.wallet.owner_name


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look; nobody, superusers included, adds, changes or deletes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
