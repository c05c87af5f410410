from django.apps import AppConfig
from django.conf import settings


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from events import delivery
        from realtime import rooms, signals
        from realtime.cluster import records
        from realtime.delivery import broadcast
        from realtime.ops import admin, metrics  # noqa: F401  (admin: registers the Django admin pages)

        signals.connect()
        records.connect()
        # This node's real-time figures at /metrics, read at scrape time.
        metrics.register(settings.NODE_ID)
        # The event log asks realtime who a room admits and hands it committed events.
        delivery.register(audience_of=rooms.room_audience, send=broadcast.send_logged)
