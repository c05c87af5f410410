from django.apps import AppConfig


class PackingConfig(AppConfig):
    name = "tests.packing"
    label = "packing"
    verbose_name = "Packing lists (test app)"

    def ready(self) -> None:
        from tests.packing import realtime, signals

        signals.connect()  # model changes -> packing events
        realtime.connect()  # the packing room type and what revokes access to it
