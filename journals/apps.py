from django.apps import AppConfig


class JournalsConfig(AppConfig):
    name = "journals"

    def ready(self) -> None:
        from journals import realtime, signals

        signals.connect()  # model changes -> journal events (journals.events)
        realtime.connect()  # the journal room type and what revokes access to it
