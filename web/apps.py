from django.apps import AppConfig


class WebConfig(AppConfig):
    """The /app/ page: an HTML shell and native ES modules (web/static/web/app/), built on
    the browser client library (web/static/realtime/trava-realtime.js)."""

    name = "web"
