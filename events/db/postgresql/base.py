from django.db.backends.postgresql import base

from events.db import EventLogHooks


class DatabaseWrapper(EventLogHooks, base.DatabaseWrapper):
    pass
