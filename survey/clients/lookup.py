"""Objects named in a URL, looked up through the current client's scope: another client's
object is 404, never 403 (its existence is not disclosed)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select

from survey.extensions import db
from survey.models import Campaign, Programme

T = TypeVar("T")


def owned_or_404(model: type[T], object_id: Any) -> T:
    """The `model` row of id `object_id` if the current client may see it, else 404.

    A query rather than `session.get`, whose identity-map hit would skip the client's scope.
    """
    try:
        key = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    found = db.session.scalar(select(model).where(model.id == key))  # type: ignore[attr-defined]
    if found is None:
        abort(404)
    return found


def campaign_or_404(slug: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        abort(404)
    return campaign


def programme_or_404(programme_id: Any) -> Programme:
    return owned_or_404(Programme, programme_id)
