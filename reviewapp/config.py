"""Default configuration. Secrets never live here: they come from instance/ or REVIEWAPP_* env."""

from datetime import timedelta

# Which environment we run in; "production" turns on the strict checks in create_app.
ENV = "development"

# SQLALCHEMY_DATABASE_URI defaults to instance/reviewapp.db (set in create_app, which knows the
# instance path); REVIEWAPP_DATABASE_URL overrides it.
SQLALCHEMY_TRACK_MODIFICATIONS = False
# Pooled connections are tested before use (pool_pre_ping, added in create_app), so one that
# died with a database restart is replaced instead of failing a request. While the database
# is down or locked past SQLite's busy timeout (5 s; `?timeout=N` in a SQLite URL), requests
# get 503 with Retry-After of this many seconds.
DATABASE_RETRY_AFTER = 5

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_NAME = "remember_token"
# "Keep me logged in" lasts this long (seconds from env, or a timedelta); the server refuses an
# older login cookie whatever its expiry date says.
REMEMBER_COOKIE_DURATION = timedelta(days=30)
PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
# Answers over HTTPS carry Strict-Transport-Security with this max-age (seconds).
HSTS_MAX_AGE = 365 * 24 * 3600
# Behind a reverse proxy: how many proxies set each X-Forwarded-* header (werkzeug's ProxyFix).
# 0 trusts none of them; behind one nginx or load balancer set PROXY_X_FOR and PROXY_X_PROTO to 1.
PROXY_X_FOR = 0
PROXY_X_PROTO = 0
PROXY_X_HOST = 0
PROXY_X_PORT = 0
PROXY_X_PREFIX = 0

# Rate limits (Flask-Limiter). Memory keeps the counts in one process; with several app servers
# set REVIEWAPP_RATELIMIT_STORAGE_URI=redis://host:6379 so that they share them.
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_STRATEGY = "moving-window"
RATELIMIT_KEY_PREFIX = "reviewapp"
RATELIMIT_HEADERS_ENABLED = True
# Redis unreachable: keep limiting in each process rather than answer logins with errors.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
# Failed logins: per account (as typed, existing or not) and per client address.
LOGIN_LIMIT_PER_ACCOUNT = "10 per 15 minutes"
LOGIN_LIMIT_PER_ADDRESS = "50 per 15 minutes"
# Failed current-password checks when changing one's password, per user.
PASSWORD_LIMIT_PER_USER = "10 per 15 minutes"
# JSON API: requests per token, and requests without a valid token per address.
API_LIMIT_PER_TOKEN = "600 per minute"
API_AUTH_FAILURES_PER_ADDRESS = "30 per minute"

WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so long review forms do not expire

# One-time set-password links handed out by HR.
SET_PASSWORD_TOKEN_MAX_AGE = 7 * 24 * 3600

# Uploads (metric imports); the web server may cap earlier.
IMPORT_MAX_BYTES = 50 * 1024 * 1024
MAX_CONTENT_LENGTH = 60 * 1024 * 1024

# Long lists (people, reviews, goals, team metrics): rows per page; ?size= may ask for 1-200.
PAGE_SIZE = 50

# Goals: more activity-metric goals than this for one rep in one period draws a warning.
GOALS_ACTIVITY_WARNING = 3
# Goals: days between check-ins before the next one is shown as due.
GOALS_CHECK_IN_DAYS = 14

# Email. With no MAIL_SERVER (the default) nothing is sent: each email is written to the log and
# stays readable on HR's outbox page. MAIL_USE_TLS: STARTTLS on MAIL_PORT; MAIL_USE_SSL: SMTPS.
MAIL_SERVER = None
MAIL_PORT = 587
MAIL_USE_TLS = True
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_FROM = "ReviewApp <reviewapp@localhost>"
MAIL_TIMEOUT = 20  # seconds per SMTP conversation
# Where delivery runs after the commit that wrote the email: "auto" (the background jobs' RQ
# queue when REDIS_URL is set, else a thread of this process; under TESTING "manual"), "rq",
# "thread", "inline" (in the committing process, right after the commit) or "manual" (only
# `flask mail deliver`, e.g. from cron).
MAIL_DELIVERY = "auto"
# Seconds to wait after the 1st, 2nd, ... failed attempt; the last one repeats for good.
MAIL_RETRY_DELAYS = [60, 300, 1800, 7200, 21600, 86400]
# The address people open ReviewApp at: every link in an email starts with it (never taken from
# a request's Host header, which anyone can set).
BASE_URL = "http://127.0.0.1:5000"

# Review records (PDF). The organisation's name heads every record and is its PDF author.
ORGANISATION_NAME = "ReviewApp"
RECORDS_PAGE_SIZE = "A4"  # or "Letter"
RECORDS_PDF_VARIANT = "pdf/a-3a"  # tagged and archivable; "pdf/ua-1" or "" (plain PDF)
# Where rendering runs: "auto" (RQ when REDIS_URL is set, else a local process pool; under
# TESTING "manual"), "rq", "pool", "inline" (in the finalising process, after its commit) or
# "manual" (left pending for `flask records render` or the cycle page's retry).
RECORDS_JOBS = "auto"
RECORDS_WORKERS = 2  # processes of the local pool
RECORDS_QUEUE = "reviewapp-records"  # the RQ queue's name
REDIS_URL = None  # e.g. redis://127.0.0.1:6379/0
# Signing: a PEM key and certificate, or a PKCS#12 file; the passphrase for either. Unset, the
# pair that `flask records keygen` writes to instance/ is used if it is there; else records are
# stored unsigned. SIGNING_CHAIN: PEM file of intermediate CA certificates to embed.
SIGNING_KEY = None
SIGNING_CERT = None
SIGNING_PKCS12 = None
SIGNING_PASSPHRASE = None
SIGNING_CHAIN = None
# Certificates `flask records verify` trusts besides the signing certificate (the company CA).
SIGNING_TRUST_ROOTS = None
