from django.contrib import admin

from social.models import Activity, ChatMessage, Notification, Rsvp


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "trip", "author", "short_text", "client_message_id", "created_at")
    list_filter = ("created_at",)
    search_fields = ("text", "author__username", "trip__title", "client_message_id")
    raw_id_fields = ("trip", "author")
    readonly_fields = ("client_message_id", "created_at")
    list_select_related = ("trip", "author")
    date_hierarchy = "created_at"

    @admin.display(description="text")
    def short_text(self, message: ChatMessage) -> str:
        return message.text[:80]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "kind", "message", "read_at", "created_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("message", "recipient__username")
    raw_id_fields = ("recipient",)
    readonly_fields = ("created_at",)
    list_select_related = ("recipient",)


class RsvpInline(admin.TabularInline):
    model = Rsvp
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("id", "trip", "title", "starts_at", "location", "created_by", "created_at")
    list_filter = ("starts_at",)
    search_fields = ("title", "location", "trip__title", "created_by__username")
    raw_id_fields = ("trip", "created_by")
    readonly_fields = ("created_by", "created_at", "updated_at")
    list_select_related = ("trip", "created_by")
    inlines = (RsvpInline,)


@admin.register(Rsvp)
class RsvpAdmin(admin.ModelAdmin):
    list_display = ("id", "activity", "user", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("activity__title", "user__username")
    raw_id_fields = ("activity", "user")
    readonly_fields = ("created_at", "updated_at")
    list_select_related = ("activity", "user")
