from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "photos"

    def ready(self) -> None:
        from photos import bodylimit, realtime, schema, signals  # noqa: F401

        bodylimit.install()
        realtime.connect()  # the album room type and what revokes access to it
