"""Issue 16: the settings that point a node at Redis Sentinel and at several PostgreSQL
hosts, read by a fresh process as a node reads them (the drills in tests/drills/
test_redis_sentinel_failover.py and test_postgres_failover.py run them for real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.servers import ROOT

SHOW = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
layer = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("hosts", [{}])[0]
print(json.dumps({
    "host": db["HOST"], "port": db["PORT"], "name": db["NAME"], "options": db["OPTIONS"],
    "redis_url": settings.REDIS_URL, "cache": settings.CACHES["default"],
    "layer": {k: layer.get(k) for k in ("sentinels", "master_name", "address")},
}, default=str))
"""


def settings_with(**env: str) -> dict:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "trava.settings", "SECRET_KEY": "x" * 50, **env}
    done = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_database_url_with_several_hosts_reaches_psycopg_as_libpq_lists() -> None:
    shown = settings_with(
        DATABASE_URL="postgres://u:pw@db1:5432,db2:6543,db3/trava?target_session_attrs=read-write",
        REDIS_URL="",
    )
    assert (shown["host"], shown["port"], shown["name"]) == ("db1,db2,db3", "5432,6543,5432", "trava")
    assert shown["options"]["target_session_attrs"] == "read-write"


def test_redis_sentinels_configure_the_layer_and_the_cache() -> None:
    shown = settings_with(
        REDIS_URL="", REDIS_SENTINELS="10.0.0.1:26379, 10.0.0.2:26380", REDIS_SENTINEL_MASTER="trava-main"
    )
    assert shown["layer"] == {
        "sentinels": [["10.0.0.1", 26379], ["10.0.0.2", 26380]],
        "master_name": "trava-main",
        "address": None,
    }
    assert shown["cache"]["BACKEND"] == "trava.redisha.SentinelRedisCache"
    assert shown["cache"]["LOCATION"] == "trava-main"
    assert shown["redis_url"].startswith("redis+sentinel://")  # "Redis is on" for the registry


def test_a_malformed_sentinel_list_stops_the_process_with_one_line() -> None:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "trava.settings", "SECRET_KEY": "x" * 50}
    environment["REDIS_SENTINELS"] = "10.0.0.1:notaport"
    done = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("trava: REDIS_SENTINELS entries are host:port")
