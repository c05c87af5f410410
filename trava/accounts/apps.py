from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "trava.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from trava.accounts import realtime

        realtime.connect()  # the personal room type and what revokes a user's sockets
