from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event log"

    def ready(self) -> None:
        # Loading events.publish registers how a committing transaction logs its events
        # (events.pending.set_recorder); the database backends cannot import it earlier.
        from events import delivery, publish  # noqa: F401
        from trava.events_catalogue import check_on_publish

        # Under test settings every event is checked against its catalogue schema before
        # it is logged (a no-op otherwise).
        delivery.register_check(check_on_publish)
