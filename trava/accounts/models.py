from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """Trava's user from day one: username and email are unique, case-insensitively."""

    email = models.EmailField("email address")

    objects = UserManager()

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    # What access depends on, as loaded from the database (Django's documented from_db
    # hook): receivers compare it with what is saved, to revoke open sockets when the
    # account is deactivated, loses its staff flag or changes its password, with no
    # extra query. `access_fields_saved()` moves the snapshot on after each save.
    ACCESS_FIELDS = ("is_active", "is_staff", "password")

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> User:
        instance = super().from_db(db, field_names, values)
        instance._loaded_access = {
            name: value for name, value in zip(field_names, values, strict=True) if name in cls.ACCESS_FIELDS
        }
        return instance

    def access_changes(self) -> set[str]:
        """The access fields whose saved value differs from what was loaded."""
        loaded = getattr(self, "_loaded_access", {})
        return {name for name, value in loaded.items() if getattr(self, name) != value}

    def access_fields_saved(self) -> None:
        self._loaded_access = {name: getattr(self, name) for name in self.ACCESS_FIELDS}
