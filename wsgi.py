"""WSGI entry point: `gunicorn wsgi:app`."""

from reviewapp import create_app

app = create_app()
