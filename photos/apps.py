from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"

    def ready(self) -> None:
        from photos import bodylimit, schema, signals  # noqa: F401

        bodylimit.install()
