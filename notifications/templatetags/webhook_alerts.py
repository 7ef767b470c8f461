from django import template

from notifications.models import Endpoint

register = template.Library()


@register.simple_tag
def disabled_webhook_endpoints():
    """Endpoints the delivery machinery turned off (failing for the whole retry window)."""
    return list(Endpoint.objects.filter(enabled=False).exclude(disabled_reason="").order_by("pk")[:20])
