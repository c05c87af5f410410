from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "trava.accounts"
    label = "accounts"
    verbose_name = "Accounts"
