"""Settings for the test suite: the environment's services, but data of its own.

The suite owns its data: pytest-django creates (and drops) its own database, and every
Redis key it writes carries a prefix of its own, shared with the daphne processes it
starts (they inherit the environment), and deleted at the end of the run.
"""

import os
import uuid
from pathlib import Path

from trava.localenv import new_secret_key, read_local_env

# The suite's own values first: the checkout's .env (read next, and again by
# trava.settings, never overriding) must not point the tests at a developer's Redis
# prefix, media folder or throttles. The process environment still wins over both.
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("TRAVA_REDIS_PREFIX", f"trava-test-{uuid.uuid4().hex[:10]}")
os.environ.setdefault("THROTTLE_LOGIN", "10000/min")
os.environ.setdefault("THROTTLE_REGISTER", "10000/min")
os.environ.setdefault("MEDIA_ROOT", str(Path(__file__).resolve().parent.parent / ".pytest-media"))
# The signing key: the environment's, else the checkout's .env (make setup), else one made
# for this run. The daphne processes the suite starts inherit it through the environment.
read_local_env()
os.environ.setdefault("SECRET_KEY", new_secret_key())

from trava.settings import *  # noqa: E402, F403  (after the environment above)
from trava.settings import BASE_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so the daphne processes the tests start see the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".pytest-db-{os.getpid()}.sqlite3")}

# Fast hashing: the suite creates hundreds of users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every event sent is checked against its catalogue entry (trava.events_catalogue.
# check_on_publish): a payload that drifts from its schema fails loudly under tests.
EVENTS_VALIDATE_ON_PUBLISH = os.environ.get("EVENTS_VALIDATE_ON_PUBLISH", "1") == "1"

# The realtime test hook (tests/realtime_hooks.py: `test_broadcast`, staff only): test code,
# loaded by every node the suite starts; production settings name no extra handler.
WS_EXTRA_HANDLERS = {"test_broadcast": "tests.realtime_hooks.test_broadcast"}

# A test app with a live room type of its own (tests/packing): the proof that a new room
# type needs no change in realtime/ (tests/events/test_new_room_type.py).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.packing"]  # noqa: F405
