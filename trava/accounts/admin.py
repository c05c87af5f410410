from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from trava.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "is_active", "is_staff", "date_joined", "last_login")
    readonly_fields = ("date_joined", "last_login")
