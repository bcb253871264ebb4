"""WSGI entry point: ``gunicorn wsgi:app`` (SENIM_CONFIG=production) or ``flask --app wsgi run``."""

import gc

from app import create_app

app = create_app()
# The app, its templates, translations and imported modules live as long as the worker: move them out of the
# cyclic collector's sight, so that the collections a request triggers walk that request's objects only (a full
# collection over the whole heap was a pause of several milliseconds in the middle of a page).
gc.freeze()
