"""Durable traces of the real-time layer: one record per ended WebSocket connection.

Live state (who is connected, rooms, counters) lives in the registry; these rows are
what remains after a connection ends, so staff can see recent connections and error
trends across restarts. Rows are written in batches off the hot path (realtime.cluster.records).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ConnectionRecord(models.Model):
    client_id = models.CharField(max_length=32, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the record outlives a renamed or deleted account.
    username = models.CharField(max_length=150, blank=True)
    node = models.CharField(max_length=128, db_index=True)
    remote_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    connected_at = models.DateTimeField()
    disconnected_at = models.DateTimeField(db_index=True)
    # The close code sent or received; null when the connection was lost with its node
    # (kill -9, found by another node's sweep) or ended without a close frame.
    close_code = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    lost = models.BooleanField(default=False, help_text="Lost with its node (found by the registry sweep).")
    messages_in = models.PositiveBigIntegerField(default=0)
    messages_out = models.PositiveBigIntegerField(default=0)
    errors = models.JSONField(default=dict, blank=True, help_text="Error answers sent, by code.")
    error_count = models.PositiveIntegerField(default=0)
    rooms_joined = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-disconnected_at", "-id")
        indexes = [models.Index(fields=["user", "-disconnected_at"], name="realtime_conn_user_recent")]

    def __str__(self) -> str:
        who = self.username or "anonymous"
        return f"{self.client_id[:8]} {who} on {self.node} ({self.close_code or 'lost'})"

    @property
    def duration_seconds(self) -> float:
        return max(0.0, (self.disconnected_at - self.connected_at).total_seconds())


class LiveRoom(ConnectionRecord):
    """Admin page only (no table of its own): the live rooms, read from the registry."""

    class Meta:
        proxy = True
        verbose_name = "live room"
        verbose_name_plural = "live rooms"


class LiveClient(ConnectionRecord):
    """Admin page only: the live clients (kick) and the broadcast forms."""

    class Meta:
        proxy = True
        verbose_name = "live client"
        verbose_name_plural = "live clients"
