from django.apps import AppConfig


class TripsConfig(AppConfig):
    name = "trips"

    def ready(self) -> None:
        from trips import signals

        signals.connect()  # model changes -> trip events (trips.events)
