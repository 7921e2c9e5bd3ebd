"""Spaceport settings, read from the environment.

With no environment at all Spaceport runs in development mode on SQLite with an
embedded (filesystem) Celery broker. With ``DEBUG=false`` it refuses to start on a
missing or default secret key or encryption key.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from spaceport.env import env_bool, env_int, env_list, env_networks, env_pem_blocks, env_str, env_url_list
from spaceport.queues import task_queues, task_routes

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SPACEPORT_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

DEVELOPMENT_SECRET_KEY = "spaceport-development-only-secret-key-do-not-use-in-production"  # noqa: S105 - refused when DEBUG is off
SECRET_KEY = env_str("SECRET_KEY") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off "
        "(or SECRET_KEY_FILE must name a file holding it)."
    )

# Fernet keys for secrets at rest: the first encrypts, all of them decrypt.
DEVELOPMENT_ENCRYPTION_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktMzItYnl0ZXMhISE="
ENCRYPTION_KEYS = env_list("SPACEPORT_ENCRYPTION_KEYS") or ([DEVELOPMENT_ENCRYPTION_KEY] if DEBUG else [])
if not DEBUG and (not ENCRYPTION_KEYS or DEVELOPMENT_ENCRYPTION_KEY in ENCRYPTION_KEYS):
    raise ImproperlyConfigured(
        "SPACEPORT_ENCRYPTION_KEYS must list at least one Fernet key of your own when DEBUG is off "
        "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "portal",
    "accessgrants",
    "connections",
    "commits",
    "gateway",
]

MIDDLEWARE = [
    "portal.web.requestmetrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.web.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.audit.context.RequestContextMiddleware",
    "portal.web.stateless.StatelessMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "spaceport.urls"
WSGI_APPLICATION = "spaceport.wsgi.application"

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
                "portal.web.context_processors.spaceport",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'spaceport.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: write-ahead logging lets readers go on while one writes,
    # and transactions that take the write lock up front wait their turn instead of failing with
    # "database is locked" when two of them read and then write at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that stops answering (rather than refusing) fails a request, a task and /readyz
    # after this many seconds instead of the operating system's minutes; a URL's connect_timeout wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
if env_str("DATABASE_TEST_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite cannot enforce "nulls not distinct"; PostgreSQL does, and grant creation checks anyway.
SILENCED_SYSTEM_CHECKS = ["models.W047"]

REDIS_URL = env_str("REDIS_URL")
# Several deployments (or test runs) may share one Redis: each keeps its keys, the audit journal
# among them, under a prefix of its own.
REDIS_KEY_PREFIX = env_str("REDIS_KEY_PREFIX")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.core.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploads and request bodies: JSON bodies are small; anything larger is refused early.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("SPACEPORT_MAX_REQUEST_BYTES", 256 * 1024)

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

# --- Sign-in (django-allauth) ---
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ALLOW_REGISTRATION = env_bool("SPACEPORT_ALLOW_SIGNUP", DEBUG)
ACCOUNT_ADAPTER = "portal.auth.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("SPACEPORT_LOGIN_FAILED_LIMIT", "5/5m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "10/h/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "5/h/ip,3/h/key",
}
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Spaceport"
SOCIALACCOUNT_ADAPTER = "portal.auth.adapters.SocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False

OIDC_PROVIDER_ID = env_str("OIDC_PROVIDER_ID", "sso")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "Single sign-on")
OIDC_ISSUER = env_str("OIDC_ISSUER")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_AUDIENCE = env_str("OIDC_AUDIENCE") or OIDC_CLIENT_ID
OIDC_SCOPES = env_list("OIDC_SCOPES", ["openid", "profile", "email"])
OIDC_JWKS_CACHE_SECONDS = env_int("OIDC_JWKS_CACHE_SECONDS", 300)
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, object]] = {}
if OIDC_ISSUER and OIDC_CLIENT_ID:
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": OIDC_PROVIDER_ID,
                "name": OIDC_PROVIDER_NAME,
                "client_id": OIDC_CLIENT_ID,
                "secret": OIDC_CLIENT_SECRET,
                "settings": {"server_url": OIDC_ISSUER, "scope": OIDC_SCOPES},
            }
        ],
    }

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.auth.authentication.ApiTokenAuthentication",
        "portal.auth.authentication.OidcBearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.web.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "portal.web.api.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "portal.web.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["portal.web.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Spaceport API",
    "DESCRIPTION": "Organizations, spaces, grants and scoped access to object storage.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and its assets come from drf-spectacular-sidecar's static files: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it is an image from swagger.io, which an air-gapped portal cannot reach.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TenancyStateEnum": "portal.tenancy.models.State",
        "CommitStateEnum": "commits.models.CommitState",
        "CommitItemStateEnum": "commits.models.ItemState",
        "ConnectionStatusEnum": "connections.models.Status",
    },
}

# --- Celery ---
# The embedded broker names its (unused) host: without one, kombu warned "No hostname was
# supplied" from the web process, the worker and beat on every `make run`.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Without timeouts a request sending a task to a Redis that accepts connections and never answers
    # (a hung host, a dropped route) waited forever; now it gives up and the task waits as owed
    # (portal/core/dispatch.py). RabbitMQ's client already gives up after CELERY_BROKER_CONNECTION_TIMEOUT.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": env_int("CELERY_BROKER_CONNECT_TIMEOUT", 5),
        "socket_timeout": env_int("CELERY_BROKER_SOCKET_TIMEOUT", 5),
    }
# django-celery-results' table, through a store that waits out a database outage (spaceport/tasking.py):
# it retries with backoff up to 10 s apart, for about five minutes, before it gives up.
CELERY_RESULT_BACKEND = "spaceport.tasking:ResultStore"
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = env_int("CELERY_RESULT_BACKEND_MAX_RETRIES", 40)
CELERY_RESULT_EXTENDED = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "spaceport")
# Validation, commits, webhooks and housekeeping each on a queue of their own (spaceport/queues.py);
# a worker started without -Q consumes every queue declared here.
CELERY_TASK_QUEUES = task_queues(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ROUTES = task_routes(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ACKS_LATE = True
# A result row says STARTED once a worker takes the task: pages tell "waiting for a worker" from
# "running", and /metrics reads each task's runtime from it (one more small write per task).
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# django-celery-beat's database scheduler behind a lock: one beat sends the schedule, a second
# one stands by and takes over when the first is gone (spaceport/beat.py, docs/operations.md).
CELERY_BEAT_SCHEDULER = "spaceport.beat:SingleBeatScheduler"
SPACEPORT_BEAT_STANDBY_SECONDS = env_int("SPACEPORT_BEAT_STANDBY_SECONDS", 5)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "purge-expired-api-tokens": {"task": "portal.tasks.purge_expired_api_tokens", "schedule": 6 * 3600.0},
    "revalidate-connections": {"task": "connections.tasks.revalidate_connections", "schedule": 24 * 3600.0},
    "rotate-connection-keys": {"task": "connections.tasks.rotate_connection_keys", "schedule": 24 * 3600.0},
    "sweep-access-keys": {
        "task": "accessgrants.tasks.sweep_access_keys",
        "schedule": float(env_int("SPACEPORT_ACCESS_KEY_SWEEP_SECONDS", 3600)),
    },
    "resume-stalled-commits": {"task": "commits.tasks.resume_stalled_commits", "schedule": 60.0},
    # How long a credential's audit event may wait in Redis before it is a row in the trail.
    "drain-audit-journal": {
        "task": "portal.tasks.drain_audit_journal",
        "schedule": float(env_int("SPACEPORT_AUDIT_DRAIN_SECONDS", 5)),
    },
    "send-owed-tasks": {"task": "portal.tasks.send_owed_tasks", "schedule": 30.0},
}
CELERY_TIMEZONE = TIME_ZONE

# --- Logging ---
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# "plain" for people at a console, "json" for log collectors: one object a line, with the request id.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
# One handler on the root logger, and Django's own loggers routed to it alone: Django's default
# configuration gives them a console handler of their own as well, which printed every warning twice.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "portal.audit.context.RequestContextLogFilter"},
        "client_errors_without_traceback": {"()": "spaceport.logfilters.ClientErrorsWithoutTraceback"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "spaceport.logfilters.JsonLines"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_context"]},
        "json_console": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"handlers": [], "filters": ["client_errors_without_traceback"], "propagate": True},
        "django.db.backends": {"level": "INFO"},
        # botocore logs every request's headers (session tokens, IBM bearer tokens) at DEBUG.
        "botocore": {"level": "INFO"},
        # The S3 gateway's access log: one JSON object a line, for log pipelines to parse.
        "spaceport.gateway.access": {"handlers": ["json_console"], "level": "INFO", "propagate": False},
    },
}

# --- Metrics (spaceport/metrics.py) ---
# /metrics answers 404 unless one of these is set; with both, a scrape must carry the token and come
# from one of the networks. Behind a proxy the address is the proxy's (REMOTE_ADDR). Several gunicorn
# workers share their figures through PROMETHEUS_MULTIPROC_DIR, which prometheus-client reads itself.
SPACEPORT_METRICS_TOKEN = env_str("SPACEPORT_METRICS_TOKEN")
SPACEPORT_METRICS_NETWORKS = env_networks("SPACEPORT_METRICS_NETWORKS")
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")

# --- Security (production) ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Only the portal's own files, no inline script or style, no eval (portal/web/csp.py says why). The pages,
# the admin, the sign-in pages and Swagger UI all run under it; data: images are the TOTP QR code.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes reach the process directly over plain HTTP, not through the TLS-terminating proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# --- Credential vending ---
# Lifetimes in minutes per access level (AccessManager's sas.token.expiration.read/write/delete),
# the longest a caller may ask for, and the safety buffer: a cached credential is reused only
# while it has more than the buffer left (AccessManager's sas.token.cache.buffer).
SPACEPORT_CREDENTIAL_LIFETIME_MINUTES = {
    "read": env_int("SPACEPORT_CREDENTIAL_LIFETIME_READ", 60),
    "write": env_int("SPACEPORT_CREDENTIAL_LIFETIME_WRITE", 60),
    "delete": env_int("SPACEPORT_CREDENTIAL_LIFETIME_DELETE", 30),
}
SPACEPORT_CREDENTIAL_MAX_LIFETIME_MINUTES = {
    "read": env_int("SPACEPORT_CREDENTIAL_MAX_LIFETIME_READ", 720),
    "write": env_int("SPACEPORT_CREDENTIAL_MAX_LIFETIME_WRITE", 240),
    "delete": env_int("SPACEPORT_CREDENTIAL_MAX_LIFETIME_DELETE", 60),
}
SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = env_int("SPACEPORT_CREDENTIAL_CACHE_BUFFER", 10)
SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE = env_int("SPACEPORT_CREDENTIAL_RATE_LIMIT_PER_MINUTE", 60)

# --- Spaceport ---
SPACEPORT_SITE_NAME = env_str("SPACEPORT_SITE_NAME", "Spaceport")
SPACEPORT_API_TOKEN_MAX_PER_USER = env_int("SPACEPORT_API_TOKEN_MAX_PER_USER", 20)

# --- S3 access keys ---
# How many active keys a user holds at once (the reference's two), the longest a key may live in days
# (0: no platform cap; an organization may set a shorter one), how long a rotated key keeps working
# beside its successor, and the gateway address the key pages' snippets point at.
SPACEPORT_MAX_ACCESS_KEYS_PER_USER = env_int("SPACEPORT_MAX_ACCESS_KEYS_PER_USER", 2)
SPACEPORT_ACCESS_KEY_MAX_DAYS = env_int("SPACEPORT_ACCESS_KEY_MAX_DAYS", 365)
SPACEPORT_ACCESS_KEY_ROTATION_GRACE_HOURS = env_int("SPACEPORT_ACCESS_KEY_ROTATION_GRACE_HOURS", 24)
# The workers' sweep of access keys (every SPACEPORT_ACCESS_KEY_SWEEP_SECONDS, see CELERY_BEAT_SCHEDULE):
# warn this many days before a key expires, and delete a key this many days after it expired.
SPACEPORT_ACCESS_KEY_EXPIRY_WARNING_DAYS = env_int("SPACEPORT_ACCESS_KEY_EXPIRY_WARNING_DAYS", 7)
SPACEPORT_ACCESS_KEY_DELETE_AFTER_DAYS = env_int("SPACEPORT_ACCESS_KEY_DELETE_AFTER_DAYS", 30)
# The same sweep closes a key request nobody decided within this many days.
SPACEPORT_KEY_REQUEST_EXPIRY_DAYS = env_int("SPACEPORT_KEY_REQUEST_EXPIRY_DAYS", 14)
SPACEPORT_S3_GATEWAY_URL = env_str("SPACEPORT_S3_GATEWAY_URL", "http://localhost:9000" if DEBUG else "").rstrip("/")

# --- Background work asked for while the broker was away (portal/core/dispatch.py) ---
# Work a request could not hand to the broker is sent again by beat's sweep once it has waited this long.
SPACEPORT_OWED_TASK_SECONDS = env_int("SPACEPORT_OWED_TASK_SECONDS", 60)

# --- Commits (loadingzone to space) ---
# Objects copied at once per commit task; objects per slice (a commit is cut into slices that any
# worker takes); a commit is resumed when it made no progress for this long;
# how long a webhook delivery keeps retrying. Where webhooks may go is the outbound address policy's
# (SPACEPORT_ALLOWED_PRIVATE_NETWORKS).
SPACEPORT_COMMIT_CONCURRENCY = env_int("SPACEPORT_COMMIT_CONCURRENCY", 16)
SPACEPORT_COMMIT_BATCH_SIZE = env_int("SPACEPORT_COMMIT_BATCH_SIZE", 200)
SPACEPORT_COMMIT_SLICE_SIZE = env_int("SPACEPORT_COMMIT_SLICE_SIZE", 500)
# The run that plans a commit also moves the slices no worker has taken yet (PostgreSQL only);
# false leaves every slice to its own task.
SPACEPORT_COMMIT_PLANNER_MOVES = env_bool("SPACEPORT_COMMIT_PLANNER_MOVES", True)
SPACEPORT_COMMIT_STALL_SECONDS = env_int("SPACEPORT_COMMIT_STALL_SECONDS", 120)
SPACEPORT_COMMIT_ITEM_ATTEMPTS = env_int("SPACEPORT_COMMIT_ITEM_ATTEMPTS", 3)
SPACEPORT_WEBHOOK_MAX_RETRIES = env_int("SPACEPORT_WEBHOOK_MAX_RETRIES", 8)
SPACEPORT_WEBHOOK_TIMEOUT = env_int("SPACEPORT_WEBHOOK_TIMEOUT", 10)

# --- Outbound address policy (connections/egress.py) ---
# Private networks (CIDRs) that customers' endpoints and webhooks may reach, for stores inside the
# operator's network; loopback only when a loopback range is named here. Metadata, link-local and
# reserved addresses are never reachable. Development (DEBUG) allows loopback, for a local MinIO.
_DEVELOPMENT_NETWORKS = ["127.0.0.0/8", "::1/128"] if DEBUG else []
SPACEPORT_ALLOWED_PRIVATE_NETWORKS = env_networks("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", _DEVELOPMENT_NETWORKS)

# --- E-mail ---
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "spaceport@localhost")
if env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Cloud connections ---
# Spaceport's own AWS principal, which assumes customers' cross-account roles. Without keys it falls
# back to boto3's default chain (instance profile, IRSA, ~/.aws). The account and principal ARN are what
# the wizard tells customers to trust.
SPACEPORT_AWS_ACCESS_KEY_ID = env_str("SPACEPORT_AWS_ACCESS_KEY_ID")
SPACEPORT_AWS_SECRET_ACCESS_KEY = env_str("SPACEPORT_AWS_SECRET_ACCESS_KEY")
SPACEPORT_AWS_ACCOUNT_ID = env_str("SPACEPORT_AWS_ACCOUNT_ID")
SPACEPORT_AWS_PRINCIPAL_ARN = env_str("SPACEPORT_AWS_PRINCIPAL_ARN")
SPACEPORT_AWS_STS_ENDPOINT = env_str("SPACEPORT_AWS_STS_ENDPOINT")
SPACEPORT_AWS_SESSION_SECONDS = env_int("SPACEPORT_AWS_SESSION_SECONDS", 3600)
# Connections that opted in get a new long-term key once the one in use is this many days old.
SPACEPORT_CONNECTION_KEY_ROTATION_DAYS = env_int("SPACEPORT_CONNECTION_KEY_ROTATION_DAYS", 30)
# Spaceport's own OpenID Connect issuer: the tokens it trades for customers' AWS roles and Google
# workload identity pools, with a subject per organization and connection. The issuer URL must be
# reachable by AWS and Google over HTTPS (they fetch /.well-known/openid-configuration and the JWKS).
# Signing keys are PEM RSA private keys: the first signs, all are published, so a new key can be
# added first and the old one removed once no token it signed is alive (minutes). Development
# generates one under var/; production has none until it is configured, and refuses to mint.
SPACEPORT_SITE_URL = env_str("SPACEPORT_SITE_URL", "http://localhost:8000" if DEBUG else "").rstrip("/")
SPACEPORT_OIDC_ISSUER_URL = (env_str("SPACEPORT_OIDC_ISSUER_URL") or SPACEPORT_SITE_URL).rstrip("/")
SPACEPORT_OIDC_SIGNING_KEYS = env_pem_blocks("SPACEPORT_OIDC_SIGNING_KEYS")
SPACEPORT_OIDC_DEVELOPMENT_KEY_FILE = str(VAR_DIR / "oidc-signing-key.pem") if DEBUG else ""
SPACEPORT_OIDC_TOKEN_SECONDS = env_int("SPACEPORT_OIDC_TOKEN_SECONDS", 300)
SPACEPORT_OIDC_AWS_AUDIENCE = env_str("SPACEPORT_OIDC_AWS_AUDIENCE", "sts.amazonaws.com")
# "issuer" (the default): tokens from Spaceport's own issuer, one subject per organization and
# connection. "external": one token from the source below, shared by every organization, for
# operators whose customers already trust another identity provider.
SPACEPORT_WEB_IDENTITY_SOURCE = env_str("SPACEPORT_WEB_IDENTITY_SOURCE", "issuer")
if SPACEPORT_WEB_IDENTITY_SOURCE not in ("issuer", "external"):
    raise ImproperlyConfigured(
        f"SPACEPORT_WEB_IDENTITY_SOURCE must be issuer or external, not {SPACEPORT_WEB_IDENTITY_SOURCE!r}"
    )
# The external source (SPACEPORT_WEB_IDENTITY_SOURCE=external): a projected token file
# (Kubernetes/EKS), or an OAuth client-credentials grant at another identity provider.
SPACEPORT_WEB_IDENTITY_TOKEN_FILE = env_str("SPACEPORT_WEB_IDENTITY_TOKEN_FILE")
SPACEPORT_WEB_IDENTITY_TOKEN_URL = env_str("SPACEPORT_WEB_IDENTITY_TOKEN_URL")
SPACEPORT_WEB_IDENTITY_CLIENT_ID = env_str("SPACEPORT_WEB_IDENTITY_CLIENT_ID")
SPACEPORT_WEB_IDENTITY_CLIENT_SECRET = env_str("SPACEPORT_WEB_IDENTITY_CLIENT_SECRET")
SPACEPORT_WEB_IDENTITY_AUDIENCE = env_str("SPACEPORT_WEB_IDENTITY_AUDIENCE")
# With the external source, what the wizard tells customers to trust: its issuer and (shared) subject.
SPACEPORT_WEB_IDENTITY_ISSUER = env_str("SPACEPORT_WEB_IDENTITY_ISSUER")
SPACEPORT_WEB_IDENTITY_SUBJECT = env_str("SPACEPORT_WEB_IDENTITY_SUBJECT")
# S3-API requests (AWS, IBM COS, S3-compatible stores): how long to wait and how often to retry.
SPACEPORT_S3_CONNECT_TIMEOUT = env_int("SPACEPORT_S3_CONNECT_TIMEOUT", 10)
SPACEPORT_S3_READ_TIMEOUT = env_int("SPACEPORT_S3_READ_TIMEOUT", 60)
SPACEPORT_S3_MAX_ATTEMPTS = env_int("SPACEPORT_S3_MAX_ATTEMPTS", 3)
# Objects larger than this are copied in parts (UploadPartCopy); S3's CopyObject stops at 5 GiB.
SPACEPORT_S3_MULTIPART_COPY_THRESHOLD = env_int("SPACEPORT_S3_MULTIPART_COPY_THRESHOLD", 5 * 1024**3)
# Spaceport's own Google identity: a credentials file (service-account key or workload identity
# configuration), else Application Default Credentials. It never touches customers' buckets itself:
# for direct IAM bindings it impersonates a service account of the organization's own, which it
# creates in SPACEPORT_GCP_PROJECT (needs roles/iam.serviceAccountAdmin there) or takes from the
# pool of pre-created accounts (needs roles/iam.serviceAccountTokenCreator on each).
SPACEPORT_GCP_CREDENTIALS_FILE = env_str("SPACEPORT_GCP_CREDENTIALS_FILE")
SPACEPORT_GCP_PROJECT = env_str("SPACEPORT_GCP_PROJECT")
SPACEPORT_GCP_SERVICE_ACCOUNT_POOL = env_list("SPACEPORT_GCP_SERVICE_ACCOUNT_POOL")
# Google's IAM and IAM Credentials APIs; only tests point them elsewhere (at hosts listed below).
SPACEPORT_GCP_IAM_URL = env_str("SPACEPORT_GCP_IAM_URL", "https://iam.googleapis.com").rstrip("/")
SPACEPORT_GCP_IAM_CREDENTIALS_URL = env_str(
    "SPACEPORT_GCP_IAM_CREDENTIALS_URL", "https://iamcredentials.googleapis.com"
).rstrip("/")
# Hosts besides *.googleapis.com that may receive a Google token from Spaceport: the token endpoints a
# customer's key or credential configuration names, and the storage API endpoint of connections that
# act with Spaceport's identity. Only the operator sets this; Spaceport's tokens go nowhere else.
SPACEPORT_GCP_EXTRA_TOKEN_HOSTS = env_list("SPACEPORT_GCP_EXTRA_TOKEN_HOSTS")
# Where downscoped tokens are exchanged (Google's Security Token Service); tests point it at a stand-in.
SPACEPORT_GCP_STS_ENDPOINT = env_str("SPACEPORT_GCP_STS_ENDPOINT", "https://sts.googleapis.com/v1/token")
# Where a customer's IBM Cloud API key may be exchanged for tokens, and which Entra ID clouds may sign
# in an Azure service principal: the operator's choice, offered as a list, never free text, so a stored
# secret is never sent to a host an organization admin picked. The first entry is the default.
IBM_IAM = "https://iam.cloud.ibm.com/identity/token"
AZURE_CLOUDS = ["login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn"]
SPACEPORT_IBM_IAM_TOKEN_URLS = env_url_list("SPACEPORT_IBM_IAM_TOKEN_URLS", [IBM_IAM])
SPACEPORT_AZURE_AUTHORITY_HOSTS = env_url_list("SPACEPORT_AZURE_AUTHORITY_HOSTS", AZURE_CLOUDS, origins=True)

# The S3 gateway: the region clients sign their requests for (any S3 client needs one).
SPACEPORT_S3_GATEWAY_REGION = env_str("SPACEPORT_S3_GATEWAY_REGION", "us-east-1")
# Virtual-host-style buckets: a request to <bucket>.<this domain> names its bucket in the host.
# Empty: path-style only.
SPACEPORT_S3_GATEWAY_DOMAIN = env_str("SPACEPORT_S3_GATEWAY_DOMAIN", "").strip(".").lower()
# HTTPS on the S3 port: the certificate (chain) and its private key, PEM files. Both or neither.
SPACEPORT_S3_GATEWAY_TLS_CERT = env_str("SPACEPORT_S3_GATEWAY_TLS_CERT")
SPACEPORT_S3_GATEWAY_TLS_KEY = env_str("SPACEPORT_S3_GATEWAY_TLS_KEY")
# Processes serving the S3 port side by side (SO_REUSEPORT); one per core is a good start.
SPACEPORT_S3_GATEWAY_PROCESSES = env_int("SPACEPORT_S3_GATEWAY_PROCESSES", 1)
# Run the event loop on uvloop (when installed). Off by default: measured, it made no difference that
# stood out of the noise, the time per request being spent elsewhere (docs/gateway.md).
SPACEPORT_S3_GATEWAY_UVLOOP = env_bool("SPACEPORT_S3_GATEWAY_UVLOOP", False)
# Prometheus metrics, /healthz and /readyz, on a port of their own (on the S3 port /metrics would
# be a bucket). Empty: no metrics listener.
SPACEPORT_S3_GATEWAY_METRICS_ADDR = env_str("SPACEPORT_S3_GATEWAY_METRICS_ADDR", "127.0.0.1:9101")
# Seconds a client may leave a request body without sending a byte before the request is refused
# (RequestTimeout), and a store may leave the gateway waiting for its answer (ServiceUnavailable).
SPACEPORT_S3_GATEWAY_BODY_TIMEOUT = env_int("SPACEPORT_S3_GATEWAY_BODY_TIMEOUT", 30)
SPACEPORT_S3_GATEWAY_UPSTREAM_TIMEOUT = env_int("SPACEPORT_S3_GATEWAY_UPSTREAM_TIMEOUT", 60)
# How often each gateway process writes its keys' last-used times and request counts (one UPDATE).
SPACEPORT_S3_GATEWAY_USAGE_FLUSH_SECONDS = env_int("SPACEPORT_S3_GATEWAY_USAGE_FLUSH_SECONDS", 5)
