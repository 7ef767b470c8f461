"""Staff: webhook endpoints (secret shown once, rotate, enable/disable, event filter) and the delivery
log with replay. In-app notifications are read-only."""

from django import forms
from django.contrib import admin, messages

from common.admin_readonly import ReadOnlyAdmin
from outbox.events import EventType
from outbox.models import OutboxEvent

from .delivery import delivery_replay
from .endpoints import endpoint_enable, endpoint_rotate_secret
from .models import Delivery, DeliveryAttempt, Endpoint, Notification
from .signing import secret_generate
from .targets import TargetRefused, target_check
from .tasks import deliver_due


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "enabled"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            target_check(url)
        except TargetRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "enabled", "events", "failing_since", "disabled_reason"]
    list_filter = ["enabled"]
    actions = ["rotate_secret", "disable", "enable"]

    @admin.display(description="events")
    def events(self, endpoint):
        return ", ".join(endpoint.event_types) or "all"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.secret = secret_generate()
        super().save_model(request, obj, form, change)
        if not change:
            messages.warning(request, f"Signing secret for {obj.url} (shown once, copy it now): {obj.secret}")

    @admin.action(description="Rotate the signing secret (the old one keeps signing for 24 h)")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            secret = endpoint_rotate_secret(endpoint=endpoint)
            messages.warning(request, f"New signing secret for {endpoint.url} (shown once): {secret}")

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        queryset.update(enabled=False, disabled_reason="")

    @admin.action(description="Enable (and forget past failures)")
    def enable(self, request, queryset):
        for endpoint in queryset:
            endpoint_enable(endpoint=endpoint)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["attempted_at", "status_code", "error", "duration_ms", "response_excerpt"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at",
                    "delivered_at"]
    list_filter = ["status", "event__event_type", "endpoint"]
    search_fields = ["event__uid", "endpoint__url"]
    readonly_fields = ["event", "endpoint", "wallet_id", "status", "attempts", "next_attempt_at", "leased_until",
                       "last_status_code", "last_error", "delivered_at", "created_at"]
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.display(description="event")
    def event_type(self, delivery):
        return delivery.event.event_type

    def has_add_permission(self, request):
        return False

    @admin.action(description="Replay: send again now")
    def replay(self, request, queryset):
        for delivery in queryset:
            delivery_replay(delivery=delivery)
        try:
            deliver_due.delay()
        except Exception:  # no broker: beat's sweep sends them
            pass
        messages.success(request, f"{queryset.count()} deliveries queued again.")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "event_type", "wallet_id", "created_at", "dispatched_at"]
    list_filter = ["event_type"]
    search_fields = ["=wallet_id", "uid"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "event_type", "title", "created_at", "read_at", "emailed_at"]
    list_filter = ["event_type"]
