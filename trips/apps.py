from django.apps import AppConfig


class TripsConfig(AppConfig):
    name = "trips"

    def ready(self) -> None:
        from trips import realtime, signals

        signals.connect()  # model changes -> trip events (trips.events)
        realtime.connect()  # the trip room type and what revokes access to it
