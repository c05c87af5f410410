from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"

    def ready(self) -> None:
        from photos import realtime, schema, signals  # noqa: F401

        realtime.connect()  # the album room type and what revokes access to it
