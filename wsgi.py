"""WSGI entry point: ``gunicorn wsgi:app`` (SENIM_CONFIG=production) or ``flask --app wsgi run``."""

from app import create_app

app = create_app()
