from django.apps import AppConfig


class JournalsConfig(AppConfig):
    name = "journals"

    def ready(self) -> None:
        from journals import signals

        signals.connect()  # model changes -> journal events (journals.events)
