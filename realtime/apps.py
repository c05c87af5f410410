from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from events import delivery
        from realtime import rooms, signals
        from realtime.cluster import records
        from realtime.delivery import broadcast
        from realtime.ops import admin  # noqa: F401  (registers the Django admin pages)

        signals.connect()
        records.connect()
        # The event log asks realtime who a room admits and hands it committed events.
        delivery.register(audience_of=rooms.room_audience, send=broadcast.send_logged)
