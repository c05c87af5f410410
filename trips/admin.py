from django.contrib import admin

from trips.models import Expense, ExpenseShare, ItineraryItem, Trip, TripMember


class TripMemberInline(admin.TabularInline):
    model = TripMember
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("joined_at",)


class ItineraryItemInline(admin.TabularInline):
    model = ItineraryItem
    extra = 0
    fields = ("position", "title", "starts_at", "ends_at", "location")
    ordering = ("position",)
    show_change_link = True


@admin.register(Trip)
class TripAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "title",
        "destination",
        "start_date",
        "end_date",
        "visibility",
        "currency",
        "budget_total",
        "created_by",
        "created_at",
    )
    list_filter = ("visibility", "currency", "start_date")
    search_fields = ("title", "destination", "description", "created_by__username")
    date_hierarchy = "start_date"
    raw_id_fields = ("created_by",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    inlines = (TripMemberInline, ItineraryItemInline)


@admin.register(TripMember)
class TripMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "trip", "user", "role", "joined_at")
    list_filter = ("role",)
    search_fields = ("trip__title", "user__username")
    raw_id_fields = ("trip", "user")
    readonly_fields = ("joined_at",)
    list_select_related = ("trip", "user")


@admin.register(ItineraryItem)
class ItineraryItemAdmin(admin.ModelAdmin):
    list_display = ("id", "trip", "position", "title", "starts_at", "ends_at", "location")
    list_filter = ("starts_at",)
    search_fields = ("title", "location", "notes", "trip__title")
    raw_id_fields = ("trip", "created_by")
    readonly_fields = ("created_by", "created_at", "updated_at")
    list_select_related = ("trip",)


class ExpenseShareInline(admin.TabularInline):
    model = ExpenseShare
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Expense)
class ExpenseAdmin(admin.ModelAdmin):
    list_display = ("id", "trip", "description", "amount", "category", "paid_by", "spent_on", "created_at")
    list_filter = ("category", "spent_on")
    search_fields = ("description", "trip__title", "paid_by__username")
    raw_id_fields = ("trip", "paid_by", "created_by")
    readonly_fields = ("created_by", "created_at", "updated_at")
    list_select_related = ("trip", "paid_by")
    inlines = (ExpenseShareInline,)
