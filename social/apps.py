from django.apps import AppConfig


class SocialConfig(AppConfig):
    name = "social"

    def ready(self) -> None:
        from social import receivers  # noqa: F401  (connects the trip-member receivers)
