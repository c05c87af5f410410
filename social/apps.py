from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"

    def ready(self) -> None:
        from social import realtime, receivers, signals

        receivers.connect()  # notifications for photo and journal comments and reactions
        signals.connect()  # chat messages and notifications -> events (social.events)
        realtime.connect()  # the socket command send_message
