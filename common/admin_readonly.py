from django.contrib import admin


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
