from django.urls import path

from web.views import app_page

urlpatterns = [
    path("", app_page, name="app"),
]
