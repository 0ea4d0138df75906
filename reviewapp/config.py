"""Default configuration. Secrets never live here: they come from instance/ or REVIEWAPP_* env."""

from datetime import timedelta

# Which environment we run in; "production" turns on the strict checks in create_app.
ENV = "development"

# SQLALCHEMY_DATABASE_URI defaults to instance/reviewapp.db (set in create_app, which knows the
# instance path); REVIEWAPP_DATABASE_URL overrides it.
SQLALCHEMY_TRACK_MODIFICATIONS = False

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

WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so long review forms do not expire

# One-time set-password links handed out by HR.
SET_PASSWORD_TOKEN_MAX_AGE = 7 * 24 * 3600

# Uploads (metric imports); the web server may cap earlier.
IMPORT_MAX_BYTES = 50 * 1024 * 1024
MAX_CONTENT_LENGTH = 60 * 1024 * 1024

# Goals: more activity-metric goals than this for one rep in one period draws a warning.
GOALS_ACTIVITY_WARNING = 3
# Goals: days between check-ins before the next one is shown as due.
GOALS_CHECK_IN_DAYS = 14
