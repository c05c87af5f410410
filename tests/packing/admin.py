"""The packing list in the Django admin: how a test removes a member on a live node (the
node then tells every node to revoke, through its channel layer)."""

from django.contrib import admin

from tests.packing.models import PackingList, PackingMember


class PackingMemberInline(admin.TabularInline):
    model = PackingMember
    extra = 0


@admin.register(PackingList)
class PackingListAdmin(admin.ModelAdmin):
    list_display = ("title", "owner")
    inlines = [PackingMemberInline]


admin.site.register(PackingMember)
