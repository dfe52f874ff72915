"""Accounts and logins for the trust tests."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from survey.auth.operations import create_user
from survey.extensions import db

PASSWORD = "a long enough password"


def make_user(app: Flask, email: str, role: str, password: str = PASSWORD) -> int:
    with app.app_context():
        user = create_user(db.session, email, role, password, actor="test")
        db.session.commit()
        return user.id


def login(client: FlaskClient, email: str, password: str = PASSWORD, **data: str):
    return client.post("/login", data={"email": email, "password": password, **data})


def logged_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = login(client, email, password)
    assert response.status_code == 302, f"{email} could not log in"
    return client
