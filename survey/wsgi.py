"""WSGI entry point for an external server: `gunicorn 'survey.wsgi:app'`."""

from survey import create_app

app = create_app()
