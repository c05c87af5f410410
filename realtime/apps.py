from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from events import delivery
        from realtime import broadcast, records, rooms, signals

        signals.connect()
        records.connect()
        # The event log asks realtime who a room admits and hands it committed events.
        delivery.register(audience_of=rooms.room_audience, send=broadcast.send_logged)
