"""Trava settings: everything comes from the environment (12-factor).

Unset variables fall back to the embedded defaults used by `make run` and the first CI
pass: a SQLite file and an in-memory channel layer. `DATABASE_URL` switches to
PostgreSQL (psycopg 3 with Django's connection pool), `REDIS_URL` to Redis for the
channel layer, the cluster-wide registry, the event history and the cache.
The README's configuration table documents every variable read here.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import environ

from trava.localenv import read_local_env

BASE_DIR = Path(__file__).resolve().parent.parent

# The checkout's git-ignored .env (written by `make setup`: a random SECRET_KEY, DEBUG=1)
# under the process environment, which wins. Production has none (TRAVA_ENV_FILE, localenv).
LOCAL_ENV_FILE = read_local_env()

# django-environ parses every variable below; these helpers add the house rules: an unset
# or blank variable takes the default, and a malformed number stops the process with one
# clear line instead of a traceback.
env = environ.Env()


def _given(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def _malformed(name: str, kind: str) -> NoReturn:
    sys.exit(f"trava: {name} must be {kind}, got {os.environ.get(name)!r}")


def env_str(name: str, default: str = "") -> str:
    return env.str(name) if _given(name) else default


def env_bool(name: str, default: bool = False) -> bool:
    return env.bool(name) if _given(name) else default


def env_int(name: str, default: int) -> int:
    try:
        return env.int(name) if _given(name) else default
    except ValueError:
        _malformed(name, "an integer")


def env_float(name: str, default: float) -> float:
    try:
        return env.float(name) if _given(name) else default
    except ValueError:
        _malformed(name, "a number")


def env_list(name: str, default: str = "") -> list[str]:
    items = env.list(name) if _given(name) else default.split(",")
    return [item.strip() for item in items if item.strip()]


# --- Core ------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
# Read as is: django-environ would take a key starting with `$` for a reference to another
# variable. There is no fallback key: development keys come from the checkout's .env.
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    # One clear line, no traceback: a node must never run on a known key.
    if not DEBUG:
        sys.exit("trava: SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=...)")
    sys.exit("trava: SECRET_KEY is not set: run `make setup` (writes a development .env) or export it")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Browser WebSocket connections must come from one of these origins (scheme://host[:port]
# or a bare host pattern as in ALLOWED_HOSTS). Non-browser clients send no Origin and are
# allowed. Unset: the hosts of ALLOWED_HOSTS, on any scheme and port.
WS_ALLOWED_ORIGINS = env_list("WS_ALLOWED_ORIGINS") or list(ALLOWED_HOSTS)

# The name this process reports in the cluster-wide registry, logs and metrics.
NODE_ID = env_str("NODE_ID") or f"{socket.gethostname()}-{os.getpid()}"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "trava.accounts",
    "trips",
    "social",
    "photos",
    "journals",
    "events",
    "realtime",
    "web",
]

MIDDLEWARE = [
    "trava.metrics.HttpMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "trava.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "trava.urls"
ASGI_APPLICATION = "trava.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 1)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10)
# Seconds a request waits for a pooled connection (or for PostgreSQL to come back) before
# it fails with 503. Kept short so /readyz and REST answer fast while the database is down.
DB_POOL_TIMEOUT = env_float("DB_POOL_TIMEOUT", 5.0)
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 3)


def parse_database_url(url: str) -> dict:
    """dj_database_url.parse, plus libpq's several hosts (`postgres://u@h1:5432,h2:5433/db
    ?target_session_attrs=read-write`, which dj_database_url refuses): HOST and PORT become
    libpq's comma lists, so a promoted standby is found on the next connection (issue 16)."""
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    if "," not in hostlist:
        return dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    hosts, ports = [], []
    for item in hostlist.split(","):
        host, colon, port = item.rpartition(":")
        hosts.append(host if colon else port)
        ports.append(port if colon else "5432")
    db = dj_database_url.parse(
        urlunsplit(parts._replace(netloc=f"{userinfo}{at}{hostlist.split(',')[0]}")),
        conn_max_age=0,
        conn_health_checks=True,
    )
    db["HOST"], db["PORT"] = ",".join(hosts), ",".join(ports)
    return db


if DATABASE_URL:
    try:
        _db = parse_database_url(DATABASE_URL)
    except ValueError as exc:
        sys.exit(f"trava: DATABASE_URL is malformed: {exc!r}")
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db["CONN_MAX_AGE"] = 0  # required by the pool; the pool keeps the connections
        _db["OPTIONS"] = {
            **_db.get("OPTIONS", {}),
            "connect_timeout": DB_CONNECT_TIMEOUT,
            "pool": {
                "min_size": DB_POOL_MIN_SIZE,
                "max_size": DB_POOL_MAX_SIZE,
                "timeout": DB_POOL_TIMEOUT,
            },
        }
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: concurrent writers (request threads, several daphne
    # processes, the test suite beside a live server) wait for the one write lock, up to
    # the busy timeout, instead of failing at once. Past it: 503 "database is locked".
    # Kept open for the thread's life: opening one costs ~0.3 ms (connect, Django's SQL
    # functions, the PRAGMAs) and the socket layer's ORM calls run on one worker thread,
    # which reopened it for every join and chat message. A request thread's connection
    # closes with its thread. (PostgreSQL has its pool instead.)
    _db["CONN_MAX_AGE"] = None
    _db["OPTIONS"] = {
        "timeout": env_float("SQLITE_BUSY_TIMEOUT", 20.0),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# The same backends with the event log's pre-commit hook (events.db): a change and its
# events commit together.
_db["ENGINE"] = {
    "django.db.backends.postgresql": "events.db.postgresql",
    "django.db.backends.sqlite3": "events.db.sqlite3",
}.get(_db["ENGINE"], _db["ENGINE"])
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, registry, history, cache -----------------------------------
REDIS_URL = env_str("REDIS_URL")
# Redis through Sentinel (trava/redisha.py): `host:port,host:port` of the Sentinels and the
# name of the primary they watch. It replaces REDIS_URL for every Redis user; REDIS_URL
# then only tells the code "Redis is on" and names the Sentinels (not a connectable URL).
REDIS_SENTINELS = env_list("REDIS_SENTINELS")
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "mymaster")
if REDIS_SENTINELS:
    from trava.redisha import parse_sentinels

    try:
        REDIS_SENTINEL_HOSTS = parse_sentinels(REDIS_SENTINELS)
    except ValueError as exc:
        sys.exit(f"trava: {exc}")
    REDIS_URL = f"redis+sentinel://{','.join(REDIS_SENTINELS)}/{REDIS_SENTINEL_MASTER}"
# Every key this deployment writes to Redis starts with this prefix (tests use their own).
REDIS_PREFIX = env_str("TRAVA_REDIS_PREFIX", "trava")
# channels-redis: capacity is per Redis list, and every socket of a process shares one
# list, so the default of 100 is the backlog of a whole node. Drops are counted.
CHANNEL_LAYER_CAPACITY = env_int("CHANNEL_LAYER_CAPACITY", 5000)
CHANNEL_LAYER_EXPIRY = env_int("CHANNEL_LAYER_EXPIRY", 30)
CHANNEL_LAYER_GROUP_EXPIRY = env_int("CHANNEL_LAYER_GROUP_EXPIRY", 300)

if REDIS_URL:
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    from trava.redisha import channel_layer_host

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults break the core layer (channels-notes.md): its
                # socket_timeout equals the layer's 5 s blocking pop and its async pool
                # caps at 100 connections. Both are set explicitly.
                "hosts": [
                    {
                        **(
                            {"address": REDIS_URL}
                            if not REDIS_SENTINELS
                            else channel_layer_host(REDIS_SENTINEL_HOSTS, REDIS_SENTINEL_MASTER)
                        ),
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "max_connections": 2000,
                        # redis-py retries nothing by default: after a Redis restart each
                        # pooled connection would fail its first command ("Connection
                        # closed by server") and drop that event. Retry a broken
                        # connection on a fresh one (not timeouts: they are real failures).
                        # Behind Sentinel the fresh connection asks where the primary is.
                        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2, (RedisConnectionError,)),
                    }
                ],
                "prefix": f"{REDIS_PREFIX}:asgi",
                "capacity": CHANNEL_LAYER_CAPACITY,
                "expiry": CHANNEL_LAYER_EXPIRY,
                "group_expiry": CHANNEL_LAYER_GROUP_EXPIRY,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_PREFIX}:cache",
            "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
        }
    }
    if REDIS_SENTINELS:
        CACHES["default"].update(
            BACKEND="trava.redisha.SentinelRedisCache",
            LOCATION=REDIS_SENTINEL_MASTER,
            OPTIONS={**CACHES["default"]["OPTIONS"], "sentinels": REDIS_SENTINEL_HOSTS},
        )
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.delivery.memorylayer.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_LAYER_CAPACITY, "expiry": CHANNEL_LAYER_EXPIRY},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_LIFETIME", 15 * 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_REFRESH_LIFETIME", 7 * 86400)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": SECRET_KEY,
    # Tokens carry a hash of the password hash: a password change voids every token
    # issued before it (REST, refresh and new WebSocket connections alike).
    "CHECK_REVOKE_TOKEN": True,
    # trava.accounts.tokens: simplejwt's classes, refusing malformed claims with a 401.
    "AUTH_TOKEN_CLASSES": ("trava.accounts.tokens.AccessToken",),
    "TOKEN_REFRESH_SERIALIZER": "trava.accounts.tokens.TokenRefreshSerializer",
}

# Throttles for the endpoints that brute force aims at, per client address. The cache
# above holds the counters, so with REDIS_URL set they hold across every node.
THROTTLE_RATES = {
    "login": env_str("THROTTLE_LOGIN", "10/min"),
    "register": env_str("THROTTLE_REGISTER", "5/min"),
}

# --- REST ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "trava.accounts.tokens.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["trava.api.renderers.CamelCaseJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "trava.api.parsers.CamelCaseJSONParser",
        "djangorestframework_camel_case.parser.CamelCaseMultiPartParser",
        "djangorestframework_camel_case.parser.CamelCaseFormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "trava.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "trava.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_VERSIONING_CLASS": None,
}
# Keys of these fields are data, not field names: the camelCase renderer leaves them alone.
JSON_CAMEL_CASE = {"JSON_UNDERSCOREIZE": {"no_underscore_before_number": True}}
REST_PAGE_SIZE_MAX = env_int("REST_PAGE_SIZE_MAX", 200)

SPECTACULAR_SETTINGS = {
    "TITLE": "Trava API",
    "DESCRIPTION": (
        "REST API of Trava: trips, itinerary, expenses, photos, journals and chat. "
        "Every change is also pushed live over the WebSocket at /ws (see /docs/protocol)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "drf_spectacular.hooks.postprocess_schema_enums",
    ],
    "CAMELIZE_NAMES": False,
}

# --- Real-time limits (protocol.md; every limit is a setting with its default) ---------
WS_AUTH_TIMEOUT = env_float("WS_AUTH_TIMEOUT", 10.0)  # seconds to authenticate
WS_MAX_MESSAGE_BYTES = env_int("WS_MAX_MESSAGE_BYTES", 64 * 1024)  # larger frames: 1009
WS_MAX_ROOMS_PER_CONNECTION = env_int("WS_MAX_ROOMS_PER_CONNECTION", 50)
WS_MAX_CONNECTIONS_PER_USER = env_int("WS_MAX_CONNECTIONS_PER_USER", 10)  # cluster-wide, 4029
WS_MAX_CONNECTIONS = env_int("WS_MAX_CONNECTIONS", 20000)  # per node, 1013
WS_RATE_LIMIT = env_float("WS_RATE_LIMIT", 10.0)  # messages per second per connection
WS_RATE_BURST = env_int("WS_RATE_BURST", 30)
# A connection that gets this many rate_limited answers within WS_FLOOD_WINDOW seconds is
# closed 4008 (flooding).
WS_FLOOD_STRIKES = env_int("WS_FLOOD_STRIKES", 20)
WS_FLOOD_WINDOW = env_float("WS_FLOOD_WINDOW", 10.0)
WS_IDLE_TIMEOUT = env_float("WS_IDLE_TIMEOUT", 75.0)  # silent longer than this: closed
WS_PING_INTERVAL = env_int("WS_PING_INTERVAL", 20)  # daphne's protocol-level ping
WS_PING_TIMEOUT = env_int("WS_PING_TIMEOUT", 30)
# Cluster registry: heartbeat period and how long a dead node's entries survive.
REGISTRY_HEARTBEAT = env_float("REGISTRY_HEARTBEAT", 10.0)
REGISTRY_TTL = env_float("REGISTRY_TTL", 60.0)
# Event history kept per room for resume (protocol.md section 4).
# The event log (protocol.md 9.3): a resume replays exactly what was missed for
# HISTORY_RETENTION seconds (events older are pruned), at most HISTORY_MAX_EVENTS events
# (a client further behind re-reads the state: `recovered: false`).
HISTORY_RETENTION = env_float("HISTORY_RETENTION", 7 * 24 * 3600.0)
HISTORY_MAX_EVENTS = env_int("HISTORY_MAX_EVENTS", 10_000)
# The catch-up on every node: every EVENT_RELAY_INTERVAL seconds it delivers to its local
# members the logged events of the last EVENT_RELAY_WINDOW seconds, committed more than
# EVENT_RELAY_GRACE seconds ago, that the channel layer did not bring (their node died
# after the commit, a dropped message, groups a Redis flush forgot).
EVENT_RELAY_INTERVAL = env_float("EVENT_RELAY_INTERVAL", 1.0)
EVENT_RELAY_GRACE = env_float("EVENT_RELAY_GRACE", 1.5)
EVENT_RELAY_WINDOW = env_float("EVENT_RELAY_WINDOW", 120.0)
# How often a node prunes events past retention (also `manage.py events_prune`).
EVENT_PRUNE_INTERVAL = env_float("EVENT_PRUNE_INTERVAL", 3600.0)
# Trusted proxy header carrying the client address (e.g. X-Real-IP); empty: none.
PROXY_HEADER = env_str("PROXY_HEADER")
# Client message types besides the protocol's: type -> dotted path of an async
# handler(session, request). None in production; the test settings add their test hook.
WS_EXTRA_HANDLERS: dict[str, str] = {}

# --- Files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Serve straight from the apps' static folders in `make run`, no collectstatic needed.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# --- I18N ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security behind a proxy ----------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PROXY_HEADER else None
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# json: one JSON object per line (production, log shippers); plain: for people.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # Both redact tokens (`?access_token=`, `?token=`, bare JWTs) from every line.
        "plain": {
            "()": "trava.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "trava.logs.JsonFormatter"},
    },
    # A request Django refuses as suspicious (too many fields, a bad Host) is the client's
    # error, answered 400: logged as one line, without a traceback.
    "filters": {"client_errors": {"()": "trava.logs.ClientErrorFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["client_errors"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Only our handler: Django's default one (DEBUG) printed each line a second time,
        # unformatted, unredacted and with the tracebacks the filter above drops.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

# --- Metrics ---------------------------------------------------------------------------
# /metrics answers a request bearing this token (Authorization: Bearer ...) or, with no
# token set, requests from these networks only.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")

# --- Photos and journals ---------------------------------------------------------------
# Largest accepted photo file; a bigger upload is answered 413 from its Content-Length,
# before Django parses (and spools) the body, and again while streaming if it lied.
PHOTO_MAX_UPLOAD_BYTES = env_int("PHOTO_MAX_UPLOAD_BYTES", 15 * 1024 * 1024)
# The largest request body a node reads at all: a bigger one is answered 413 from its
# headers, before daphne spools it and hands it to Django in memory (realtime.runtime's
# body-size guard, as nginx's client_max_body_size in front of production nodes). The
# largest legitimate body is a photo upload: the file plus its multipart envelope
# (photos.uploads.MULTIPART_OVERHEAD, 64 KiB).
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", PHOTO_MAX_UPLOAD_BYTES + 64 * 1024)
# Decoded pixels per frame above this are refused (decompression bombs): 400.
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 40_000_000)
# Checked from the headers before any frame is decoded (photos.images._check_budget): at
# most this many frames, and at most this many pixels decoded across the frames kept (a
# GIF's every frame at its full canvas, two more for an animation; other formats keep
# their first frame; a WebP pixel counts 2.5). The total bounds a node's memory per
# upload: see docs/operations.md, "Image uploads and memory".
PHOTO_MAX_FRAMES = env_int("PHOTO_MAX_FRAMES", 100)
PHOTO_MAX_TOTAL_PIXELS = env_int("PHOTO_MAX_TOTAL_PIXELS", 4096 * 3072)  # a 12 MP photo
PHOTO_THUMBNAIL_SIZE = env_int("PHOTO_THUMBNAIL_SIZE", 400)  # longest side, pixels
# How the access-checked file views hand out bytes: "django" (FileResponse), "x-accel"
# (nginx X-Accel-Redirect to PHOTO_ACCEL_PREFIX + file name, see deploy/nginx.conf's
# internal /protected-media/), "x-sendfile" (Apache/lighttpd, absolute path), or
# "redirect" (302 to the storage's own short-lived signed URL, for S3).
PHOTO_SERVE_MODE = env_str("PHOTO_SERVE_MODE", "django")
PHOTO_ACCEL_PREFIX = env_str("PHOTO_ACCEL_PREFIX", "/protected-media/")
if PHOTO_SERVE_MODE not in {"django", "x-accel", "x-sendfile", "redirect"}:
    sys.exit(
        f"trava: PHOTO_SERVE_MODE must be django, x-accel, x-sendfile or redirect, got {PHOTO_SERVE_MODE!r}"
    )
# S3-compatible storage (django-storages) when a bucket is named; the filesystem otherwise.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",  # never public-read: photos are served after a check
            "querystring_auth": True,
            "querystring_expire": env_int("AWS_QUERYSTRING_EXPIRE", 300),
            "file_overwrite": False,
        },
    }
# Two apps have a `status` choice field; name the journal's enum in the schema.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["JournalEntryStatusEnum"] = (
    "journals.models.EntryStatus"
)

# --- Trips and social -------------------------------------------------------------------
# `status` is also a choice field in journals: name the RSVP enum in the schema.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["RsvpStatusEnum"] = "social.models.RsvpStatus"

# --- Admin and observability ------------------------------------------------------------
# Admin broadcasts (/api/websocket/broadcast[/room] and the admin pages): the longest
# message accepted, in characters (longer: 400).
ADMIN_BROADCAST_MAX_LENGTH = env_int("ADMIN_BROADCAST_MAX_LENGTH", 2000)
# The per-connection log lines (logger trava.ws: connect, authenticate, auth failure,
# join, denial, rate limit, close); WARNING silences them.
LOGGING["loggers"]["trava.ws"] = {"level": env_str("WS_LOG_LEVEL", "INFO")}

# --- Scale (issue 9; docs/operations.md) --------------------------------------------------
# Bytes queued for one client that the kernel has not taken (a client that stopped
# reading): past this the node closes it 1008 and drops what was queued for it.
WS_MAX_OUTBOUND_BYTES = env_int("WS_MAX_OUTBOUND_BYTES", 4 * 1024 * 1024)
# Seconds a slow client gets to answer that close frame before its TCP connection is cut.
WS_SLOW_CLOSE_TIMEOUT = env_float("WS_SLOW_CLOSE_TIMEOUT", 10.0)
# The listen queue of each node (connect storms after a node restart; Twisted's default 50).
WS_LISTEN_BACKLOG = env_int("WS_LISTEN_BACKLOG", 1024)
