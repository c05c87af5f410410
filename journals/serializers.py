"""Output serializers are request-independent: `JournalEntrySerializer(entry).data` is both
the REST representation and the payload of the journal events (protocol.md section 6)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from journals.models import JournalComment, JournalEntry, JournalRevision
from trava.accounts.serializers import UserSerializer
from trava.api.errors import ApiErrorSerializer


class JournalEntrySerializer(serializers.ModelSerializer):
    author = UserSerializer(read_only=True)
    collaborators = serializers.SerializerMethodField()
    comment_count = serializers.SerializerMethodField()

    class Meta:
        model = JournalEntry
        fields = (
            "id",
            "author",
            "trip",
            "title",
            "body",
            "status",
            "published_at",
            "collaborators",
            "version",
            "comment_count",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    @extend_schema_field(UserSerializer(many=True))
    def get_collaborators(self, entry: JournalEntry) -> list[dict]:
        users = sorted(entry.collaborators.all(), key=lambda user: user.pk)  # prefetched in lists
        return UserSerializer(users, many=True).data

    def get_comment_count(self, entry: JournalEntry) -> int:
        count = getattr(entry, "comment_count", None)
        return entry.comments.count() if count is None else count


class JournalRevisionSerializer(serializers.ModelSerializer):
    author = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = JournalRevision
        fields = ("id", "entry", "version", "title", "body", "author", "created_at")
        read_only_fields = fields


class JournalCommentSerializer(serializers.ModelSerializer):
    author = UserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = JournalComment
        fields = ("id", "entry", "author", "text", "created_at")
        read_only_fields = fields


class JournalConflictSerializer(ApiErrorSerializer):
    """The API's error shape plus the entry as it is now (a stale `version`'s 409)."""

    current = JournalEntrySerializer()


# --- Input ----------------------------------------------------------------------------
class JournalEntryCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=100_000, required=False, allow_blank=True, default="")
    trip = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)


class JournalEntryUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=2_147_483_647, help_text="The version this edit is based on."
    )
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(max_length=100_000, required=False, allow_blank=True)


class CollaboratorAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)


class JournalCommentCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
