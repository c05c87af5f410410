from django.contrib import admin

from journals.models import JournalCollaborator, JournalComment, JournalEntry, JournalRevision


class CollaboratorInline(admin.TabularInline):
    model = JournalCollaborator
    extra = 0
    raw_id_fields = ("user",)


class RevisionInline(admin.TabularInline):
    model = JournalRevision
    extra = 0
    fields = ("version", "author", "title", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "author", "trip", "status", "version", "published_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("title", "body", "author__username")
    raw_id_fields = ("author", "trip")
    readonly_fields = ("version",)
    list_select_related = ("author", "trip")
    inlines = (CollaboratorInline, RevisionInline)


@admin.register(JournalRevision)
class JournalRevisionAdmin(admin.ModelAdmin):
    list_display = ("id", "entry", "version", "author", "created_at")
    raw_id_fields = ("entry", "author")
    list_select_related = ("entry", "author")


@admin.register(JournalComment)
class JournalCommentAdmin(admin.ModelAdmin):
    list_display = ("id", "entry", "author", "text", "created_at")
    raw_id_fields = ("entry", "author")
    list_select_related = ("entry", "author")


@admin.register(JournalCollaborator)
class JournalCollaboratorAdmin(admin.ModelAdmin):
    list_display = ("id", "entry", "user", "added_at")
    raw_id_fields = ("entry", "user")
