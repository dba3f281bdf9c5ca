"""
SmartMaintenance settings: the one place that reads the environment.

Every value has a safe development default; production sets ``DEBUG=False``
and the variables listed in ``.env.example``. ``manage.py check --deploy`` is
clean with those set (tests/test_deploy_check.py proves it).
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from smartmaintenance import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: it is required when DEBUG is off.")

# Every tenant lives at <subdomain>.<BASE_DOMAIN>; the platform itself at BASE_DOMAIN.
BASE_DOMAIN = env("BASE_DOMAIN", default="localhost").lower()
ALLOWED_HOSTS = [BASE_DOMAIN, f".{BASE_DOMAIN}"]

# --- Applications ----------------------------------------------------------
# django-tenants creates SHARED_APPS in the public schema and TENANT_APPS in
# every tenant schema. An app in both lists gets its tables in both.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "billing",
    "djstripe",
    # In both lists: mail waits in the schema that sent it (outbox/models.py).
    "outbox",
    # In both lists: content types and permissions must exist per schema
    # because each schema has its own set of models.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    # In both lists: platform admins are users of the public schema, staff are
    # users of their tenant's schema; nobody's account spans organisations.
    "accounts",
    # In both lists: sessions are stored in the schema of the host that made
    # them, so a session cookie from one subdomain is unknown on every other.
    "django.contrib.sessions",
    "django.contrib.admin",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Its templates are what FORM_RENDERER falls back to for the widgets.
    "django.forms",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files, served as our own static files rather than from a CDN.
    "drf_spectacular_sidecar",
    "django_filters",
    # In both lists, like accounts: login attempts (axes), second-factor devices
    # (django-otp) and the audit log belong to the schema of the users they
    # are about (docs/security.md says why).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "audit",
    # No models: the Content-Security-Policy header (its system checks).
    "csp",
    # No models: signup with its first admin, the platform API and the setup
    # commands, which use every app below it (docs/architecture.md).
    "main_site",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "outbox",
    "accounts",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "audit",
    "attachments",
    "assets",
    "requests_app",
    "preventive",
    "webhooks",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "smartmaintenance.urls_public"
ROOT_URLCONF = "smartmaintenance.urls_tenant"
# Without this django-tenants sends `SET search_path` before every cursor.
TENANT_LIMIT_SET_CALLS = True
# django-tenants' defaults, spelt out because it reads them on every request with
# getattr(settings, name, default), which raises and catches an AttributeError
# each time for a name that is not set.
PUBLIC_SCHEMA_NAME = "public"
HAS_MULTI_TYPE_TENANTS = False
# How long a process may keep routing a host to what it found there before
# (tenants/routing.py): the bound, at most 5 s, for a suspension, plan change or
# domain change to reach the other workers; the worker that saves it knows at once.
TENANT_ROUTING_CACHE_SECONDS = 3
# New tenants' schemas copied from the template ahead of time, for signups to
# take at once instead of waiting ~100 ms for a copy (tenants/provisioning.py).
TENANT_SPARE_SCHEMAS = env.int("TENANT_SPARE_SCHEMAS", default=3)

# Every form renders through templates/forms/: Bootstrap's layout, one place for errors.
FORM_RENDERER = "smartmaintenance.forms.SiteFormRenderer"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

MIDDLEWARE = [
    # First, so that every response gets the policy, also those that the
    # middleware below answers by themselves (suspended, unknown host, refused).
    "csp.middleware.CSPMiddleware",
    # /healthz on any host, before routing (smartmaintenance/health.py).
    "smartmaintenance.health.HealthCheckMiddleware",
    # Tenant routing, then the tenant's status (tenants/middleware.py).
    "tenants.middleware.TenantRoutingMiddleware",
    "tenants.middleware.TenantSuspendedMiddleware",
    "tenants.middleware.TenantReadOnlyMiddleware",
    "tenants.middleware.TenantTimezoneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx: views answer a fragment to htmx and a whole page otherwise.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Who acts and from where, for the audit log written by the services.
    "audit.context.AuditContextMiddleware",
    # A session that has a device, or must have one, goes no further than the
    # second-factor pages until it passed them (accounts/two_factor/).
    "accounts.two_factor.middleware.TwoFactorMiddleware",
    # Last: turns a lockout that axes flagged during the request into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# axes first: it refuses a locked-out account or address before the password
# is even checked (accounts/lockout.py). PermissionBackend answers has_perm in
# one query instead of ModelBackend's two and authenticates nobody; it must come
# before ModelBackend, which logs users in and then reads the same cached set
# (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "accounts.backends.PermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

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
                "tenants.context_processors.tenant_notice",
                "organisation.context_processors.branding",
            ],
            # The design system's tags, for every template (smartmaintenance/templatetags/ui.py).
            "libraries": {"ui": "smartmaintenance.templatetags.ui"},
        },
    },
]

WSGI_APPLICATION = "smartmaintenance.wsgi.application"

# --- Database --------------------------------------------------------------
if "DATABASE_URL" in env:
    _database = env.db_url("DATABASE_URL")
else:
    from smartmaintenance.embedded_postgres import DATABASE_NAME, ensure_database

    # A bench keeps its tenants in a database of its own (bench/README.md).
    _database = ensure_database(
        BASE_DIR / ".data" / "postgres",
        env.str("EMBEDDED_DATABASE_NAME", default=DATABASE_NAME),
    )

# Tenancy needs PostgreSQL schemas, so the engine is fixed whatever the URL says:
# django-tenants' backend, changed to send `SET search_path` only when the
# connection's path is not already the right one (see its docstring).
_database["ENGINE"] = "tenants.postgresql_backend"
# Ten minutes: a new connection rebuilds the catalog caches of every tenant
# schema it serves (~2 ms on each one's first request), while what a
# connection holds is bounded by the tenants it serves, not by its age
# (docs/deployment.md, "Memory").
_database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Caches, storage, static files ------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Keys carry the schema name, so one tenant never reads another's cache entries.
CACHES["default"]["KEY_FUNCTION"] = "django_tenants.cache.make_key"
CACHES["default"]["REVERSE_KEY_FUNCTION"] = "django_tenants.cache.reverse_key"

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
# Uploads go to MEDIA_ROOT/<schema>/..., never into a folder shared by tenants.
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security ----------------------------------------------------------------
# Cookies stay host-only: SESSION_COOKIE_DOMAIN and CSRF_COOKIE_DOMAIN are
# deliberately unset, so a cookie made on one subdomain never reaches another.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# Every tenant is a subdomain, so HSTS must cover them all.
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    f"{scheme}://{host}"
    for scheme in (["http", "https"] if DEBUG else ["https"])
    for host in (BASE_DOMAIN, f"*.{BASE_DOMAIN}")
]

# --- Login lockout (django-axes, accounts/lockout.py, docs/security.md) --------------
# Five failures in a row lock the account, and five from one address lock that
# address, for 15 minutes after the last failure; a success resets the account.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = "accounts.lockout.lockout_parameters"
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
# The key axes files the typed address under when the backend checks a login.
# Its default is the user model's USERNAME_FIELD ("email"), but every login form
# and Django's failure signal say "username": with the default, the check before
# the password never saw the account, and only the lockout per address held.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# The audit log records logins; axes keeps only what it needs to lock.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# --- Content-Security-Policy (django-csp) ------------------------------------------
# Everything from our own origin; no inline script or style anywhere, the
# Django admin and the API docs included (Swagger UI is served split).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws its form controls with data: SVGs; QR codes are data too.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # Chromium applies form-action to the redirect after a post too: signup
        # and "find my organisation" send the browser on to a tenant's subdomain.
        "form-action": [SELF, f"*.{BASE_DOMAIN}:*"],
        "frame-ancestors": [NONE],
    }
}

# --- Two-factor authentication (django-otp, accounts/two_factor/) -------------------
OTP_TOTP_ISSUER = "SmartMaintenance"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- E-mail ------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# Web processes store mail in the outbox; the worker sends it through the
# backend EMAIL_URL names (outbox/backends.py). Tests use Django's locmem.
EMAIL_DELIVERY_BACKEND = env("EMAIL_DELIVERY_BACKEND", default=EMAIL_BACKEND)  # noqa: F821
EMAIL_BACKEND = "outbox.backends.OutboxBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default=f"SmartMaintenance <noreply@{BASE_DOMAIN}>")

# --- Celery ------------------------------------------------------------------
# REDIS_URL when it answers; otherwise (a fresh machine, CI without a Redis) an
# embedded one under .data/redis. In production (DEBUG off) REDIS_URL is taken
# as it is: a broker that is down must not be replaced by an empty one.
REDIS_URL = env("REDIS_URL", default="")
if not REDIS_URL or (DEBUG and not embedded_redis.answers(REDIS_URL)):
    REDIS_URL = embedded_redis.ensure_server(BASE_DIR / ".data" / "redis")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The worker would otherwise load the tenant row for every single task.
CELERY_TASK_TENANT_CACHE_SECONDS = 30
# Celery beat sends only platform tasks; what runs in every tenant is sent by
# the fan-out, at each tenant's own hour (tenants.jobs, docs/jobs.md).
CELERY_BEAT_SCHEDULE = {
    # Tops the pool up even when signups have not reached a worker.
    "spare-schemas-fill": {"task": "tenants.tasks.spare_schemas_fill", "schedule": 60.0},
    "periodic-jobs-fan-out": {"task": "tenants.tasks.periodic_jobs_fan_out", "schedule": 60.0},
    "tenants-lifecycle": {"task": "tenants.tasks.tenants_lifecycle", "schedule": 3600.0},
    "emails-sweep-public": {"task": "outbox.tasks.emails_sweep_public", "schedule": 300.0},
}
# Every task of ours is idempotent (a new one that is not sets acks_late=False),
# so tasks are acknowledged after they ran: when a worker dies mid-task the
# message goes to another, at once for a lost pool process (reject on worker
# lost), after the visibility timeout for a lost worker. One message at a time
# per process, so a crash strands no prefetched ones.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged task to another worker after the visibility
# timeout (1 h by default); webhook retries wait up to 6 h, so allow longer.
# Tasks are queued from requests after commit (webhooks, spare schemas): with
# the broker down, one quick retry rather than kombu's default of seconds of
# them, for what is queued is also swept up later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 8 * 3600,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
}

# --- Stripe (dj-stripe) --------------------------------------------------------
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_LIVE_SECRET_KEY = env("STRIPE_LIVE_SECRET_KEY", default="")
STRIPE_TEST_SECRET_KEY = env("STRIPE_TEST_SECRET_KEY", default="")
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_USE_NATIVE_JSONFIELD = True
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"

# --- Billing (docs/billing.md) --------------------------------------------------
# Without a secret key billing is "not configured": the plan page shows the plan
# and platform admins set plans in Django admin; nothing calls Stripe.
STRIPE_SECRET_KEY = STRIPE_LIVE_SECRET_KEY if STRIPE_LIVE_MODE else STRIPE_TEST_SECRET_KEY
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
# Every signing secret of our webhook endpoint(s) that is valid now: during a
# rotation both the old and the new one, comma-separated.
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
# How old (or how far ahead) a webhook's signed timestamp may be, in seconds.
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
# Days a past-due tenant keeps working before it is suspended.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# The Stripe dashboard, for links from Django admin to customers and subscriptions.
STRIPE_DASHBOARD_URL = "https://dashboard.stripe.com/" + ("" if STRIPE_LIVE_MODE else "test/")

# --- REST framework ----------------------------------------------------------
# The REST API (docs/api.md). What every endpoint shares is in smartmaintenance/api/;
# the plan gate and the per-plan throttle are billing's (billing/api/).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # API keys first: their WWW-Authenticate header makes a missing key a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "billing.api.permissions.TenantHasAPIAccess",
        "smartmaintenance.api.permissions.KeyAllowsMethod",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["billing.api.throttles.PlanRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "smartmaintenance.api.pagination.PageNumber",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only; the endpoints that take files add MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "smartmaintenance.api.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Behind a proxy, set to the number of proxies so throttling keys on the
    # client's address rather than on whatever X-Forwarded-For claims.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
    "DEFAULT_THROTTLE_RATES": {
        "signup": env("SIGNUP_RATE", default="10/hour"),
        "asset_report": env("ASSET_REPORT_RATE", default="10/hour"),
        "find_organisation": env("FIND_ORGANISATION_RATE", default="5/hour"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SmartMaintenance API",
    "DESCRIPTION": (
        "The REST API of one organisation, at https://<subdomain>.<domain>/api/v1/. "
        "Authenticate with an API key (`Authorization: Bearer smk_…`). Errors share one "
        "format (the Error schema). Lists are paginated with `page` and `page_size`. "
        "Needs a plan with REST API access. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from validator.swagger.io: the docs load nothing from elsewhere (CSP).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that several serializers share get one name each.
    "ENUM_NAME_OVERRIDES": {
        "LocationKindEnum": "assets.models.Location.Kind",
        "AssetStatusEnum": "assets.models.AssetStatus",
        "RequestTypeEnum": "requests_app.models.RequestType",
        "RequestStatusEnum": "requests_app.models.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "smartmaintenance.api.schema.add_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Outgoing webhooks (webhooks/, docs/webhooks.md) -----------------------------
# Production refuses plain http and any URL whose host is, or resolves to, a
# private, loopback or link-local address (SSRF); development may point a
# webhook at http://localhost.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)
# Seconds to connect and to wait for the answer: a slow receiver must not hold a worker.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
# Certificate authorities trusted for receivers (a PEM file); empty means certifi's.
# The sender ignores REQUESTS_CA_BUNDLE and proxies from the environment.
WEBHOOKS_CA_BUNDLE = env("WEBHOOKS_CA_BUNDLE", default="")
# --- end of outgoing webhooks
