from django.urls import path, re_path

from realtime.edge.consumer import RealtimeConsumer
from realtime.edge.security import refuse_upgrade

websocket_urlpatterns = [
    path("ws", RealtimeConsumer.as_asgi()),
    # Any other path: the upgrade is refused with 403 (channels' URLRouter would raise
    # "No route found", a traceback in the log for every probe).
    re_path(r"", refuse_upgrade),
]
