"""Settings for the WMS, driven by environment variables with working laptop defaults.

Laptop (no variables set): a SQLite file, a filesystem Celery broker under ./var, DEBUG on.
Production: DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WMS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"  # noqa: S105 - laptop default only; DEBUG=0 requires SECRET_KEY
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "wms.apps.WmsConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "template_partials",
    "import_export",
    "axes",
    "warehouses.apps.WarehousesConfig",
    "inventory.apps.InventoryConfig",
    "freezes.apps.FreezesConfig",
    "allocation.apps.AllocationConfig",
    "channels_sync.apps.ChannelsSyncConfig",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api.apps.ApiConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wms.http.HtmxLoginRedirectMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wms.urls"
WSGI_APPLICATION = "wms.wsgi.application"
AUTH_USER_MODEL = "wms.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for the writer lock instead of failing at once when worker and web write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login throttling (django-axes): 5 failures for a username from an IP locks it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("WMS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "api" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "wms.staticfinders.NpmFileFinder",
]
# Browser libraries from npm (package-lock.json, `npm ci` in make setup): static path -> file
# under node_modules. Only these files are served and collected (wms/staticfinders.py).
NPM_STATIC_FILES = {"vendor/html5-qrcode.min.js": "html5-qrcode/html5-qrcode.min.js"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("WMS_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Uploads --------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
WMS_UPLOAD_MAX_BYTES = int(os.environ.get("WMS_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
WMS_IMPORT_MAX_ROWS = int(os.environ.get("WMS_IMPORT_MAX_ROWS", "200000"))
# Uploaded sheets and export files are removed after this many days (daily task).
WMS_FILE_RETENTION_DAYS = int(os.environ.get("WMS_FILE_RETENTION_DAYS", "30"))
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Off: the library only strips a leading "=" and turns numbers into text; every export goes
# through wms.spreadsheets instead (SafeXLSX/SafeCSV in the admin), which escapes = + - @ tab CR.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# --- Celery ---------------------------------------------------------------------------------
from wms import celery as _celery_policy  # noqa: E402 - the delivery policy lives there

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
_BROKER_DIR = VAR_DIR / "celery-broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Zero-setup laptop broker: web, worker and beat share a folder. Not for production.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR),
        "data_folder_out": str(_BROKER_DIR),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # Retries are capped well below this, so a slow task is never delivered twice by Redis.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _celery_policy.VISIBILITY_TIMEOUT}
CELERY_TASK_ACKS_LATE = _celery_policy.ACKS_LATE
CELERY_TASK_REJECT_ON_WORKER_LOST = _celery_policy.REJECT_ON_WORKER_LOST
CELERY_WORKER_PREFETCH_MULTIPLIER = _celery_policy.PREFETCH_MULTIPLIER
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
WMS_SWEEP_SECONDS = int(os.environ.get("WMS_SWEEP_SECONDS", "60"))
# Periodic jobs, one place, each described in words. Later issues add theirs here.
CELERY_BEAT_SCHEDULE: dict = {
    # freezes: every minute, release freezes whose automatic release time has come (presale
    # start) and close freezes left empty; idempotent, under an advisory lock.
    "freezes-release-due": {"task": "freezes.release_due", "schedule": timedelta(minutes=1)},
    # freezes: every day at 02:30, freeze batches near expiry under the switched-on rules.
    "freezes-near-expiry": {
        "task": "freezes.scan_near_expiry",
        "schedule": crontab(hour=2, minute=30),
    },
    # wms: every minute (WMS_SWEEP_SECONDS), requeue or fail the background jobs of a dead
    # worker (import, freeze jobs...), and send the tasks queued while the broker was down.
    "wms-sweep-jobs": {"task": "wms.sweep_jobs", "schedule": timedelta(seconds=WMS_SWEEP_SECONDS)},
    "wms-drain-outbox": {
        "task": "wms.drain_outbox",
        "schedule": timedelta(seconds=WMS_SWEEP_SECONDS),
    },
    # wms: every 30 seconds, the heartbeat of background work; staff are warned when it stops
    # (wms.health: not seen for two minutes).
    "wms-heartbeat": {
        "task": "wms.heartbeat",
        "schedule": timedelta(seconds=int(os.environ.get("WMS_HEARTBEAT_SECONDS", "30"))),
    },
    # inventory: every day at 03:15, remove uploaded sheets and export files older than
    # WMS_FILE_RETENTION_DAYS (the export history then shows "expired").
    "inventory-remove-expired-files": {
        "task": "inventory.remove_expired_files",
        "schedule": crontab(hour=3, minute=15),
    },
    # allocation: every minute, open grab windows whose time has come and close (share, make
    # orders, unreserve the rest) those past their closing time; under an advisory lock.
    "allocation-windows-due": {"task": "allocation.windows_due", "schedule": timedelta(minutes=1)},
    # channels_sync: every 5 seconds, one stock push per shop with goods waiting in the outbox.
    "channels-drain-outbox": {"task": "channels_sync.drain_outbox", "schedule": 5.0},
    # channels_sync: every night at 03:10, push every matched listing (corrects drift).
    "channels-nightly-full-push": {
        "task": "channels_sync.nightly_full_push",
        "schedule": crontab(hour=3, minute=10),
    },
    # channels_sync: every hour, an incremental product sync of each shop synced before.
    "channels-incremental-product-sync": {
        "task": "channels_sync.incremental_product_sync",
        "schedule": crontab(minute=20),
    },
    # channels_sync orders: every minute, pull orders of each shop whose interval (15 minutes
    # by default, per shop) has passed; and route short orders again once stock arrived.
    "channels-orders-pull-due": {"task": "channels_sync.orders_pull_due", "schedule": 60.0},
    "channels-reroute-short": {"task": "channels_sync.reroute_short_orders", "schedule": 60.0},
    # channels_sync orders: every 30 minutes, tracking events of shipped orders until delivered.
    "channels-tracking-pull": {"task": "channels_sync.tracking_pull", "schedule": 1800.0},
    # channels_sync orders: every minute, fulfilment reports a platform outage left pending.
    "channels-fulfilment-reports": {
        "task": "channels_sync.fulfilment_reports_due",
        "schedule": 60.0,
    },
    # api: every minute, send webhook deliveries that are due (retries, lost messages).
    "api-sweep-webhooks": {"task": "api.sweep_webhooks", "schedule": timedelta(minutes=1)},
}
# Platform I/O runs on its own queues (a slow platform never delays freeze jobs).
CELERY_TASK_ROUTES = {
    "channels_sync.push_shop": {"queue": "sync_push"},
    "channels_sync.drain_outbox": {"queue": "sync_push"},
    "channels_sync.nightly_full_push": {"queue": "sync_push"},
    "channels_sync.product_sync": {"queue": "sync_pull"},
    "channels_sync.incremental_product_sync": {"queue": "sync_pull"},
    "channels_sync.orders_pull": {"queue": "sync_pull"},
    "channels_sync.orders_pull_due": {"queue": "sync_pull"},
    "channels_sync.reroute_short_orders": {"queue": "sync_pull"},
    "channels_sync.shipment_book": {"queue": "sync_push"},
    "channels_sync.fulfilment_report": {"queue": "sync_push"},
    "channels_sync.tracking_pull": {"queue": "sync_pull"},
    "channels_sync.fulfilment_reports_due": {"queue": "sync_push"},
}

# --- Logging: structured JSON to stdout -----------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"level": "WARNING"},
        # werkzeug (the platform fakes' servers) sets itself to INFO unless told: follow LOG_LEVEL
        "werkzeug": {"level": LOG_LEVEL},
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Health checks --------------------------------------------------------------------------
WMS_HEALTH_BROKER_TIMEOUT = float(os.environ.get("WMS_HEALTH_BROKER_TIMEOUT", "2"))
# The only-writer guard (inventory/writer_guard.py): refuse any write to stock balances or
# movements that does not come from inventory.ledger. On while developing; tests always have it.
WMS_LEDGER_GUARD = env_bool("WMS_LEDGER_GUARD", DEBUG)

# --- Platform credentials (channels_sync) ---------------------------------------------------
# Fernet keys, comma-separated, newest first: the first encrypts, all decrypt, so a key is
# rotated by putting a new one in front (then `manage.py shop_credentials_rotate`).
_DEV_FIELD_KEY = "d21zLWRldi1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDA="  # noqa: S105 - laptop default only
# Without DEBUG there is no default: saving or reading credentials refuses until it is set.
WMS_FIELD_KEY = os.environ.get("WMS_FIELD_KEY", _DEV_FIELD_KEY if DEBUG else "")

# --- Cache ---------------------------------------------------------------------------------
# One cache shared by every web and worker process when WMS_CACHE_URL names a Redis server
# (redis://host:6379/2; Django's own RedisCache on redis-py): the API's throttle counts per
# token and the push debounce hold across gunicorn workers and hosts. Without it, a
# per-process memory cache: right for a laptop, but each process then counts on its own.
WMS_CACHE_URL = os.environ.get("WMS_CACHE_URL", "")
if WMS_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": WMS_CACHE_URL,
            "KEY_PREFIX": "wms",
            "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API (api app) ---------------------------------------------------------------------
# Requests per token (or session user) and minute; 429 with Retry-After beyond it. The count
# lives in the default cache: set WMS_CACHE_URL (Redis) when running several processes.
WMS_API_RATE = os.environ.get("WMS_API_RATE", "600/min")
WMS_WEBHOOKS_ALLOW_HTTP = env_bool("WMS_WEBHOOKS_ALLOW_HTTP", False)
# How stale a process's "who subscribes to what" snapshot may be (api.webhooks.outbox): a
# subscription saved in another process receives events at most this many seconds later.
WMS_WEBHOOK_SNAPSHOT_SECONDS = float(os.environ.get("WMS_WEBHOOK_SNAPSHOT_SECONDS", "1"))
# Webhooks reach only public addresses (api/webhooks/ssrf.py); these networks are exempt on
# purpose, comma-separated CIDRs (e.g. an ERP on the merchant's own network).
WMS_WEBHOOKS_ALLOWED_NETWORKS = env_list("WMS_WEBHOOKS_ALLOWED_NETWORKS", "")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ActionPermissions"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CursorPage",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WMS API",
    "DESCRIPTION": (
        "Goods, warehouses, stock, documents and freezes of the WMS, for ERPs and scripts. "
        "Authenticate with `Authorization: Bearer <token>` (tokens on /api/tokens/). Errors "
        "are `{code, message, fields}`. Lists are cursor pages (`next`). Postings accept an "
        "`Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several models name their choices "status" / "type": one clear name each.
    "ENUM_NAME_OVERRIDES": {
        "DocumentStatusEnum": "inventory.models.DocumentStatus",
        "TransferStatusEnum": "inventory.models.StockTransfer.Status",
        "FreezeStatusEnum": "freezes.models.Freeze.Status",
        "ReleaseRequestStatusEnum": "freezes.models.ReleaseRequest.Status",
        "WebhookDeliveryStatusEnum": "api.models.WebhookDelivery.Status",
        "InboundSheetTypeEnum": "inventory.models.InboundSheet.Type",
        "OutboundSheetTypeEnum": "inventory.models.OutboundSheet.Type",
        "ZoneTypeEnum": "warehouses.models.Zone.Type",
        "GrabWindowStatusEnum": "allocation.models.GrabWindow.Status",
        "GrabWindowModeEnum": "allocation.models.GrabWindow.Mode",
        "GrabRequestStatusEnum": "allocation.models.GrabRequest.Status",
        "ReplenishmentOrderStatusEnum": "allocation.models.ReplenishmentOrder.Status",
        "ListingStatusEnum": "channels_sync.models.Listing.Status",
        "BindingChangeStatusEnum": "channels_sync.models.BindingChange.Status",
        "BindingExceptionModeEnum": "channels_sync.models.BindingException.Mode",
        "SyncRecordStatusEnum": "channels_sync.models.SyncRecord.Status",
        "ChannelOrderStatusEnum": "channels_sync.models.Order.Status",
        "StoreReturnStatusEnum": "allocation.models.StoreReturn.Status",
        "StoreReturnReasonEnum": "allocation.models.StoreReturn.Reason",
        "ReasonEnum": "freezes.models.Reason",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.postprocess",
    ],
}
