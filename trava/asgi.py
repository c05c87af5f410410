"""One ASGI application: Django over HTTP, the real-time protocol over /ws."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trava.settings")

from django.core.asgi import get_asgi_application

# Django first: it sets up the apps before anything imports a model.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from realtime.edge.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": websocket_application,
    }
)
