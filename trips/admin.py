from django.contrib import admin
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from trips.models import Expense, ExpenseShare, ItineraryItem, Trip, TripMember
from trips.signals import trip_changed, trip_member_role_changed


def _announce_role_change(form: ModelForm) -> None:
    """A member's role changed in a form: the old role is the form's initial value (the
    same domain signal the service sends; no query for the old row)."""
    if form.instance.pk and "role" in form.changed_data and form.initial.get("role"):
        trip_member_role_changed.send(
            sender=TripMember, member=form.instance, previous_role=form.initial["role"]
        )


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

    def save_model(self, request: HttpRequest, obj: Trip, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and form.changed_data:  # the old values are the form's initial ones
            trip_changed.send(sender=Trip, trip_id=obj.pk, fields=set(form.changed_data))

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is TripMember:
            deleted = {obj.pk for obj in formset.deleted_objects}
            for member_form in formset.initial_forms:
                if member_form.instance.pk not in deleted:
                    _announce_role_change(member_form)


@admin.register(TripMember)
class TripMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "trip", "user", "role", "joined_at")
    list_filter = ("role",)
    search_fields = ("trip__title", "user__username")
    raw_id_fields = ("trip", "user")
    readonly_fields = ("joined_at",)
    list_select_related = ("trip", "user")

    def save_model(self, request: HttpRequest, obj: TripMember, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            _announce_role_change(form)


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
