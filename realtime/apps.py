from django.apps import AppConfig
from django.conf import settings


class RealtimeConfig(AppConfig):
    name = "realtime"

    def ready(self) -> None:
        from events import access, delivery
        from realtime.cluster import control, records
        from realtime.delivery import broadcast
        from realtime.ops import admin, metrics  # noqa: F401  (admin: registers the Django admin pages)

        records.connect()
        # This node's real-time figures at /metrics, read at scrape time.
        metrics.register(settings.NODE_ID)
        # The event log hands realtime its committed events; the apps' revocations reach
        # every node as cluster commands. (Rooms, their rules and the commands are the
        # apps' own, registered with events.rooms and events.commands.)
        delivery.register(send=broadcast.send_logged)
        access.register(
            revoke=control.recheck_access,
            sign_out=control.sign_out_user,
            deactivate=control.deactivate_user,
        )
