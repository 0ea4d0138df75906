"""WSGI entry point: `gunicorn wsgi:app`. Each worker loads the PDF and chart libraries in the
background once it is up (reviewapp/warmup.py).

What the worker made at start (the app, its models and views) lives as long as it does, so it
is moved out of the garbage collector's sight (gc.freeze, as the gc module's documentation
advises for servers): full collections no longer walk it on every pass, which took 60 ms per
collection with the app alone and 175 ms once the PDF and chart libraries were in, each time
inside someone's request. The warm-up freezes what those libraries add.
"""

import gc

from reviewapp import create_app
from reviewapp.warmup import warm_up

app = create_app()
gc.freeze()
warm_up(app)
