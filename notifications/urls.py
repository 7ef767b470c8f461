from common.routing import route

from . import api

urlpatterns = [
    route("alerts", api.AlertsView.as_view(), "alerts"),
    route("notifications", api.NotificationListView.as_view(), "notifications"),
    route("notifications/read", api.NotificationReadView.as_view(), "notifications-read"),
]
