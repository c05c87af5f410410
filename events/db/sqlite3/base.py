from django.db.backends.sqlite3 import base

from events.db import EventLogHooks


class DatabaseWrapper(EventLogHooks, base.DatabaseWrapper):
    pass
