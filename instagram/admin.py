from django.contrib import admin

from common.admin_readonly import ReadOnlyAdmin

from .models import Access


@admin.register(Access)
class AccessAdmin(ReadOnlyAdmin):
    list_display = ["wallet_id", "action_type", "username", "expires_at", "created_at"]
    list_filter = ["action_type"]
    search_fields = ["=username", "=wallet__user__username"]
    show_full_result_count = False
