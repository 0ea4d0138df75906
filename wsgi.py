"""WSGI entry point: `gunicorn wsgi:app`. Each worker loads the PDF and chart libraries in the
background once it is up (reviewapp/warmup.py)."""

from reviewapp import create_app
from reviewapp.warmup import warm_up

app = create_app()
warm_up(app)
