"""Karavan settings: the one place that reads the environment.

KARAVAN_ENV picks the defaults:
- ``demo`` (default): SQLite in WAL mode and kombu's filesystem broker, so ``make demo`` needs no server.
- ``test`` (default under pytest): PostgreSQL and Redis on 127.0.0.1, simulator delays at 0. The
  suite itself runs with ``tests/settings.py``, which adds its test-only app and URLs to these.
- ``production``: refuses to start without its secrets; passes ``manage.py check --deploy``.
DATABASE_URL, REDIS_URL and CELERY_BROKER_URL override the defaults in every mode.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KARAVAN_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()
# pytest (8.2+) exports PYTEST_VERSION: tests default to the real servers, never SQLite.
KARAVAN_ENV = env("KARAVAN_ENV", default="test" if "PYTEST_VERSION" in os.environ else "demo")
if KARAVAN_ENV not in {"demo", "test", "production"}:
    raise environ.ImproperlyConfigured(f"KARAVAN_ENV must be demo, test or production, not {KARAVAN_ENV!r}")
PRODUCTION = KARAVAN_ENV == "production"
DEMO = KARAVAN_ENV == "demo"
TESTING = KARAVAN_ENV == "test"

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")  # no default: production refuses to start without it
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    DEBUG = env.bool("DEBUG", default=False)
else:
    SECRET_KEY = env("SECRET_KEY", default="karavan-insecure-demo-key-change-me-" + "x" * 20)
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
    # The demo runs like production: no debug pages (branded 404 and 500 in the reader's language),
    # static files from WhiteNoise. DEBUG=1 turns Django's debug pages on for development.
    DEBUG = env.bool("DEBUG", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "rules.apps.AutodiscoverRulesConfig",
    "core",
    "payments",
    "customs",
    "warehouses",
    "marketplace",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.db.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.localtime.LocalTimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.ApiErrorMiddleware",
    # axes last, as its documentation asks
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "core.context_processors.karavan",
                "orders.context_processors.counts",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
_default_db = (
    f"sqlite:///{VAR_DIR / 'karavan.sqlite3'}"
    if DEMO
    else "postgres://karavan@127.0.0.1:5432/karavan"
)
DATABASES = {"default": env.db("DATABASE_URL", default=_default_db)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE avoids
        # the "database is locked" upgrade deadlock between two writers.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL: with DB_POOL_MAX_SIZE > 0, each process keeps a pool of open connections (psycopg_pool
    # through Django's OPTIONS["pool"]) that its threads share (gunicorn gthread: a thread takes a
    # connection per request and gives it back), instead of one persistent connection per thread
    # (CONN_MAX_AGE; a pool needs it at 0). Off by default: a process that forks after touching the
    # database (the benchmarks' workers, Celery's prefork pool) must not inherit a pool.
    _pool_max = env.int("DB_POOL_MAX_SIZE", default=0)
    if _pool_max > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(env.int("DB_POOL_MIN_SIZE", default=2), _pool_max), "max_size": _pool_max,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Behind PgBouncer in transaction mode a server connection changes between transactions: no
# server-side cursor may outlive one (docs/operations.md).
if env.bool("DB_PGBOUNCER", default=False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # The hot paths' prepared statements (core.sql.cursor: checkout, reservations, ledger, state
    # changes) look rows up by ids and arrays of ids: their plan does not depend on the values. Left
    # to decide ("auto"), PostgreSQL planned them again at every execution, guessing the generic plan
    # dearer for the arrays' unknown sizes: 1.3 of the storefront statement's 1.5 ms of server CPU,
    # 0.4 of the allocation preview's 0.6 (bench/checkout/README.md). Only prepared statements follow
    # this: Django binds its own queries on the client, and the PL/pgSQL functions set their own.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c plan_cache_mode=force_generic_plan".strip()
# A streaming replica for the reads of pages and the API (core.db: safe requests only, outside
# transactions, not right after the client wrote); Celery and commands read the primary.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {**DATABASES["default"], **env.db("DATABASE_REPLICA_URL"), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["core.db.ReplicaRouter"]
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# --- cache and Celery -------------------------------------------------------
REDIS_URL = env("REDIS_URL", default=None if DEMO else "redis://127.0.0.1:6379/0")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # The exchange tables (celery.pidbox, one per queue): kombu's default is ./control, which
        # put runtime files in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The transport takes about one message per poll: a second between polls made a parcel's
        # next step wait behind the demo's photo thumbnails for minutes.
        "polling_interval": 0.05,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Redis redelivers an unacked task after the visibility timeout: keep it above the longest
    # countdown/ETA we use (transit simulators schedule up to a few hours ahead).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
# On RabbitMQ, CELERY_QUEUE_TYPE=quorum makes every queue a replicated quorum queue; countdowns then
# use RabbitMQ's native delayed delivery (docs/operations.md).
CELERY_TASK_DEFAULT_QUEUE_TYPE = env("CELERY_QUEUE_TYPE", default="classic")
if CELERY_TASK_DEFAULT_QUEUE_TYPE == "quorum":
    CELERY_TASK_DEFAULT_EXCHANGE_TYPE = "topic"  # native delayed delivery needs a topic exchange
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "payments.*": {"queue": "payments"},
    "customs.*": {"queue": "customs"},
    "warehouses.*": {"queue": "warehouses"},
    # The order tasks that kept their marketplace names (rows and the beat schedule store them).
    "marketplace.expire_orders": {"queue": "orders"},
    "marketplace.order_shipped": {"queue": "orders"},
    "marketplace.parcels_step": {"queue": "orders"},
    "marketplace.parcels_sweep": {"queue": "orders"},
    "marketplace.*": {"queue": "marketplace"},
    "orders.*": {"queue": "orders"},
    "core.*": {"queue": "default"},
}
CELERY_QUEUES = ["default", "payments", "customs", "warehouses", "marketplace", "orders"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "idempotency-keys-purge": {"task": "core.purge_idempotency_keys", "schedule": timedelta(hours=1)},
}
CELERY_TASK_ALWAYS_EAGER = False

# --- auth, access, throttling ----------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
# Per account, not per IP: a botnet spreading guesses over addresses is still stopped.
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.views.lockout"
AXES_VERBOSE = False

# --- API ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",  # every refusal documented with the envelope
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="600/min"),
        "user": env("API_THROTTLE_USER", default="6000/min"),
        "auth": env("API_THROTTLE_AUTH", default="30/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Karavan API",
    "DESCRIPTION": "Cross-border e-commerce between China and Central Asia.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # core.api.schema.add_links: what a POST creates links to the operations on it (OpenAPI links).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.api.schema.add_links"],
}
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)

# --- i18n --------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("ru", "Русский"),
    ("zh-hans", "简体中文"),
    ("kk", "Қазақша"),
    ("uz", "Oʻzbekcha"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # Kazakh: Django ships none (config/formats/kk/formats.py)
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_COOKIE_NAME = "karavan_language"

# --- static and media --------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- security ------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; the cookie stays JS-readable for forms
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts only from our own files: no inline script or handler runs (the pages use static/js and
# data- attributes; the API docs load their start-up script from a URL). Styles allow inline ones:
# Swagger UI, htmx's indicator and a few SVG charts set them, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING" if TESTING else "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Payment provider webhook secrets: {"provider": "secret"}; the simulator has a demo default.
PAYMENT_WEBHOOK_SECRETS = env.dict(
    "PAYMENT_WEBHOOK_SECRETS",
    default={} if PRODUCTION else {"simulator": "karavan-simulator-secret"},
)

# --- payments ---
# Wallet currencies; FX rates are also loaded for the others in reference/currencies.csv (EUR).
PAYMENTS_CURRENCIES = env.list("PAYMENTS_CURRENCIES", default=["CNY", "KZT", "UZS", "KGS", "TJS", "TMT", "USD"])
# Platform margin on conversions, a fraction of the amount (0.005 = 0.5 %), shown in every quote.
PAYMENTS_FX_SPREAD = env("PAYMENTS_FX_SPREAD", default="0.005")
# "reference" (reference/currencies.csv), or a JSON/CSV URL or file path with code,usd_per_unit[,as_of].
PAYMENTS_FX_SOURCE = env("PAYMENTS_FX_SOURCE", default="reference")
PAYMENTS_WEBHOOK_TOLERANCE_SECONDS = env.int("PAYMENTS_WEBHOOK_TOLERANCE_SECONDS", default=300)
# One operation above this many minor units is refused as absurd (10^14 = a trillion units).
PAYMENTS_MAX_AMOUNT_MINOR = env.int("PAYMENTS_MAX_AMOUNT_MINOR", default=10**14)
PAYMENTS_PAYOUT_GATEWAY = env("PAYMENTS_PAYOUT_GATEWAY", default="simulator")
CELERY_BEAT_SCHEDULE.update({
    "payments-refresh-fx-rates": {"task": "payments.refresh_fx_rates", "schedule": timedelta(hours=1)},
    "payments-sweep-payouts": {"task": "payments.sweep_payouts", "schedule": timedelta(minutes=5)},
})

# --- marketplace ---
# Photo uploads: refused above this many bytes or pixels (decompression bombs), or below this side.
MARKETPLACE_IMAGE_MAX_BYTES = env.int("MARKETPLACE_IMAGE_MAX_BYTES", default=8 * 1024 * 1024)
MARKETPLACE_IMAGE_MAX_PIXELS = env.int("MARKETPLACE_IMAGE_MAX_PIXELS", default=40_000_000)
MARKETPLACE_IMAGE_MIN_SIDE = env.int("MARKETPLACE_IMAGE_MIN_SIDE", default=64)
MARKETPLACE_IMAGE_QUALITY = env.int("MARKETPLACE_IMAGE_QUALITY", default=82)
MARKETPLACE_IMAGES_PER_PRODUCT = env.int("MARKETPLACE_IMAGES_PER_PRODUCT", default=12)
# Thumbnail widths made by Celery (cards use 320, the gallery 800).
MARKETPLACE_THUMBNAIL_SIZES = [int(w) for w in env.list("MARKETPLACE_THUMBNAIL_SIZES", default=["160", "320", "800"])]
# Photo names carry a random token, so a name never changes content: cache for a year.
MARKETPLACE_IMAGE_CACHE_SECONDS = env.int("MARKETPLACE_IMAGE_CACHE_SECONDS", default=365 * 24 * 3600)
MARKETPLACE_PAGE_SIZE = env.int("MARKETPLACE_PAGE_SIZE", default=24)
# Catalogue imports: the file (CSV or XLSX) and the ZIP of photos are refused above these sizes; an
# XLSX or ZIP whose entries would unpack past the limits (or at a higher ratio) is a zip bomb.
MARKETPLACE_IMPORT_MAX_BYTES = env.int("MARKETPLACE_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
MARKETPLACE_IMPORT_MAX_ROWS = env.int("MARKETPLACE_IMPORT_MAX_ROWS", default=50_000)
MARKETPLACE_IMPORT_XLSX_MAX_UNPACKED = env.int("MARKETPLACE_IMPORT_XLSX_MAX_UNPACKED", default=100 * 1024 * 1024)
MARKETPLACE_IMPORT_ZIP_MAX_BYTES = env.int("MARKETPLACE_IMPORT_ZIP_MAX_BYTES", default=500 * 1024 * 1024)
MARKETPLACE_IMPORT_ZIP_MAX_UNPACKED = env.int("MARKETPLACE_IMPORT_ZIP_MAX_UNPACKED", default=2 * 1024 * 1024 * 1024)
MARKETPLACE_IMPORT_ZIP_MAX_ENTRIES = env.int("MARKETPLACE_IMPORT_ZIP_MAX_ENTRIES", default=100_000)
MARKETPLACE_IMPORT_MAX_RATIO = env.int("MARKETPLACE_IMPORT_MAX_RATIO", default=100)
# Rows written per transaction (one Celery task each).
MARKETPLACE_IMPORT_CHUNK_ROWS = env.int("MARKETPLACE_IMPORT_CHUNK_ROWS", default=500)
# An import with no chunk written for this many seconds lost a message: beat re-sends its start.
MARKETPLACE_IMPORT_STALL_AFTER = env.int("MARKETPLACE_IMPORT_STALL_AFTER", default=300)
CELERY_BEAT_SCHEDULE.update({
    "marketplace-imports-resume": {"task": "marketplace.imports_resume", "schedule": timedelta(minutes=5)},
})
# Name the product status enum in the API schema (several apps have a "status" field).
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["ProductStatusEnum"] = "marketplace.models.Product.Status"

# --- warehouses ----------------------------------------------------------------
# How long reserved units stay held when the caller gives no lifetime (an unpaid checkout).
WAREHOUSES_RESERVATION_TTL = env.int("WAREHOUSES_RESERVATION_TTL", default=15 * 60)
# Transit simulator: seconds each automatic consignment step waits after the previous one
# (status left -> delay). A status missing here is moved by hand (operator or staff).
WAREHOUSES_TRANSIT_DELAYS = {
    "submitted": env.float("WAREHOUSES_DELAY_PICKUP", default=20.0),
    "in_transit": env.float("WAREHOUSES_DELAY_TRANSIT", default=60.0),
    "at_border": env.float("WAREHOUSES_DELAY_BORDER", default=30.0),
}
# Fulfilment simulator: picks, packs and ships requested fulfilments by itself (as the system), so
# the demo lives without an operator; operators can still act by hand. Off in tests and production.
WAREHOUSES_FULFILMENT_SIMULATOR = env.bool("WAREHOUSES_FULFILMENT_SIMULATOR", default=DEMO)
# Seconds the simulator waits in each status before the next step (requested -> pick,
# picking -> pack, packed -> ship).
WAREHOUSES_FULFILMENT_DELAYS = {
    "requested": env.float("WAREHOUSES_DELAY_PICK", default=5.0),
    "picking": env.float("WAREHOUSES_DELAY_PACK", default=5.0),
    "packed": env.float("WAREHOUSES_DELAY_SHIP", default=5.0),
}
# Units still in bond cannot be picked: the simulator tries again this many times, this many seconds
# apart, then leaves the fulfilment to the operator (the release from bond wakes it up anyway).
WAREHOUSES_FULFILMENT_BOND_RETRIES = env.int("WAREHOUSES_FULFILMENT_BOND_RETRIES", default=8)
WAREHOUSES_FULFILMENT_BOND_RETRY_DELAY = env.float("WAREHOUSES_FULFILMENT_BOND_RETRY_DELAY", default=15.0)
# The sweep re-sends the simulator's step of fulfilments that have not moved for this many seconds
# (a lost task, a restarted worker); nothing when the simulator is off.
WAREHOUSES_FULFILMENT_STALL_AFTER = env.int("WAREHOUSES_FULFILMENT_STALL_AFTER", default=120)
CELERY_BEAT_SCHEDULE.update({
    "warehouses-expire-reservations": {"task": "warehouses.expire_reservations", "schedule": timedelta(minutes=1)},
    "warehouses-resume-fulfilments": {"task": "warehouses.resume_fulfilments", "schedule": timedelta(minutes=1)},
})

# --- customs ---
# The customs-authority gateways by name; each country's real system plugs in as another adapter.
CUSTOMS_GATEWAYS = {"simulator": "customs.gateways.simulator.SimulatorGateway"}
# The simulator's risk rules and delays (seconds). Tests set the delays to 0.
CUSTOMS_SIMULATOR = {
    "register_delay": env.float("CUSTOMS_SIM_REGISTER_DELAY", default=0 if TESTING else 3),
    "channel_delay": env.float("CUSTOMS_SIM_CHANNEL_DELAY", default=0 if TESTING else 5),
    "release_delay": env.float("CUSTOMS_SIM_RELEASE_DELAY", default=0 if TESTING else 5),
    "stall_after": env.int("CUSTOMS_SIM_STALL_AFTER", default=300),
    "yellow_value_usd": env.int("CUSTOMS_SIM_YELLOW_VALUE_USD", default=10_000),
    "red_value_usd": env.int("CUSTOMS_SIM_RED_VALUE_USD", default=50_000),
    "yellow_hs_chapters": env.list("CUSTOMS_SIM_YELLOW_CHAPTERS", default=["30", "33"]),
    "red_hs_chapters": env.list("CUSTOMS_SIM_RED_CHAPTERS", default=["36", "71"]),
    "reject_hs_chapters": env.list("CUSTOMS_SIM_REJECT_CHAPTERS", default=["93"]),
    "weight_gap_yellow_percent": env.float("CUSTOMS_SIM_WEIGHT_GAP_YELLOW", default=5),
    "weight_gap_red_percent": env.float("CUSTOMS_SIM_WEIGHT_GAP_RED", default=20),
    "invoice_required": env.bool("CUSTOMS_SIM_INVOICE_REQUIRED", default=True),
    # One declaration in N (by a hash of its reference) is rejected; 0 switches the rule off.
    "reject_every": env.int("CUSTOMS_SIM_REJECT_EVERY", default=0 if TESTING else 25),
}
CUSTOMS_DOCUMENT_MAX_BYTES = env.int("CUSTOMS_DOCUMENT_MAX_BYTES", default=5 * 1024 * 1024)
CUSTOMS_DOCUMENT_MAX_PIXELS = 40_000_000
CELERY_BEAT_SCHEDULE.update({
    "customs-resume-stalled": {"task": "customs.resume_stalled", "schedule": timedelta(minutes=5)},
})
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "DeclarationStatusEnum": "customs.states.DeclarationStatus",
    "DeclarationKindEnum": "customs.models.Declaration.Kind",
})

# --- orders ---
# Where a role lands after logging in without a ``next`` (URL names; the first role the user has wins).
LOGIN_LANDING_BY_ROLE = {"seller": "seller-dashboard"}
# How long a placed order waits for payment before Celery expires it and returns its units.
MARKETPLACE_ORDER_PAYMENT_WINDOW = env.int("MARKETPLACE_ORDER_PAYMENT_WINDOW", default=30 * 60)
# The reservation outlives the payment window by this much, so that the order's own expiry (which
# records the event) runs first; the warehouses' sweep is only the safety net.
MARKETPLACE_ORDER_RESERVATION_GRACE = env.int("MARKETPLACE_ORDER_RESERVATION_GRACE", default=10 * 60)
# The platform's commission on delivered orders, a fraction of what the buyer paid (0.05 = 5 %).
MARKETPLACE_ORDER_COMMISSION_RATE = env("MARKETPLACE_ORDER_COMMISSION_RATE", default="0.05")
# Expiry sweep: orders handled per batch, and batches per run (the rest wait for the next minute).
MARKETPLACE_ORDER_EXPIRE_BATCH = env.int("MARKETPLACE_ORDER_EXPIRE_BATCH", default=200)
MARKETPLACE_ORDER_EXPIRE_MAX_BATCHES = env.int("MARKETPLACE_ORDER_EXPIRE_MAX_BATCHES", default=10)
# Shipping per storefront, in its currency: base + per_kg for every started kilogram of the gross
# weight of the order (one parcel). A demo tariff until carriers quote live.
MARKETPLACE_ORDER_SHIPPING = {
    "kz": {"base": "30.00", "per_kg": "12.00"},
    "kg": {"base": "30.00", "per_kg": "12.00"},
    "uz": {"base": "35.00", "per_kg": "14.00"},
    "tj": {"base": "40.00", "per_kg": "15.00"},
    "tm": {"base": "45.00", "per_kg": "16.00"},
    "cn-uz": {"base": "25000.00", "per_kg": "12000.00"},
    "cn-kz": {"base": "1500.00", "per_kg": "700.00"},
}
CELERY_BEAT_SCHEDULE.update({
    "marketplace-expire-orders": {"task": "marketplace.expire_orders", "schedule": timedelta(minutes=1)},
})
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["OrderStatusEnum"] = "orders.states.OrderStatus"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "ReturnStatusEnum": "orders.states.ReturnStatus",
    "ReturnReasonEnum": "orders.states.ReturnReason",
    "MovementReasonEnum": "warehouses.models.Movement.Reason",
})
# Parcel pipeline (orders/tracking.py): after shipment Celery moves the order along its road.
MARKETPLACE_TRACKING_AUTOSTART = env.bool("MARKETPLACE_TRACKING_AUTOSTART", default=True)
# Seconds an order stays in each status before its next timed step (status left -> delay); 0 in
# tests. The demo's add up, with customs and the fulfilment simulator, to under 3 minutes from paid
# to delivered; production sets real transit times.
MARKETPLACE_TRACKING_DELAYS = {
    "shipped": env.float("MARKETPLACE_TRACKING_DELAY_SHIPPED", default=0 if TESTING else 15),
    "in_transit": env.float("MARKETPLACE_TRACKING_DELAY_IN_TRANSIT", default=0 if TESTING else 30),
    "cleared": env.float("MARKETPLACE_TRACKING_DELAY_CLEARED", default=0 if TESTING else 20),
}
# Stuck-order sweep: an order older in its status than the step's delay plus this margin (seconds)
# lost its countdown; moved in batches of this size, at most this many batches per status and run.
MARKETPLACE_TRACKING_SWEEP_MARGIN = env.int("MARKETPLACE_TRACKING_SWEEP_MARGIN", default=300)
MARKETPLACE_TRACKING_SWEEP_BATCH = env.int("MARKETPLACE_TRACKING_SWEEP_BATCH", default=500)
MARKETPLACE_TRACKING_SWEEP_MAX_BATCHES = env.int("MARKETPLACE_TRACKING_SWEEP_MAX_BATCHES", default=20)
CELERY_BEAT_SCHEDULE.update({
    "marketplace-parcels-sweep": {"task": "marketplace.parcels_sweep", "schedule": timedelta(minutes=1)},
})
# Returns: a seller who does not answer a return request within this many seconds approves it.
ORDERS_RETURN_AUTO_APPROVE_AFTER = env.int("ORDERS_RETURN_AUTO_APPROVE_AFTER", default=3 * 24 * 3600)
CELERY_BEAT_SCHEDULE.update({
    "orders-returns-auto-approve": {"task": "orders.returns_auto_approve", "schedule": timedelta(minutes=10)},
    "orders-returns-sweep": {"task": "orders.returns_sweep", "schedule": timedelta(minutes=5)},
    # Paid orders sold from bond whose filing task was lost (orders.tasks.DECLARE_SWEEP_AFTER).
    "orders-declare-sweep": {"task": "orders.declare_sweep", "schedule": timedelta(minutes=1)},
    # Orders customs refused whose return task was lost (orders.tasks.REJECTED_SWEEP_AFTER).
    "orders-rejected-sweep": {"task": "orders.rejected_sweep", "schedule": timedelta(minutes=1)},
    # Orders still at customs after customs decided: the decision's callback was lost.
    "orders-customs-sweep": {"task": "orders.customs_sweep", "schedule": timedelta(minutes=1)},
    # Orders still waiting on their warehouse after it moved on: the warehouse's callback was lost.
    "orders-warehouse-sweep": {"task": "orders.warehouse_sweep", "schedule": timedelta(minutes=1)},
})

# --- personal data ---
# Fernet keys (urlsafe base64 of 32 bytes: Fernet.generate_key()) that encrypt personal data at rest,
# comma-separated. The first encrypts, all decrypt: to rotate, put a new key first, re-encrypt with
# core.crypto.rotate, then drop the old one. Production requires them; demo and test derive one from
# SECRET_KEY (so a changed SECRET_KEY there makes the stored tokens unreadable).
if PRODUCTION:
    PERSONAL_DATA_KEYS = env.list("PERSONAL_DATA_KEYS")  # no default: production refuses to start without it
    if not PERSONAL_DATA_KEYS:
        raise environ.ImproperlyConfigured("PERSONAL_DATA_KEYS is empty: give at least one Fernet key")
else:
    import base64
    import hashlib

    PERSONAL_DATA_KEYS = env.list(
        "PERSONAL_DATA_KEYS",
        default=[base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode("ascii")],
    )
