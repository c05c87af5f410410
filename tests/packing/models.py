from __future__ import annotations

from django.conf import settings
from django.db import models


class PackingList(models.Model):
    title = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.title


class PackingMember(models.Model):
    """Who shares the list (its owner included): they see it and its live room."""

    packing_list = models.ForeignKey(PackingList, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["packing_list", "user"], name="packing_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.packing_list_id}"
