"""The publication's background work: printing a poster's PDF (`survey.publication.posters`)."""

from __future__ import annotations

from survey.models import JobKind
from survey.worker.registry import register_job_type

register_job_type(
    JobKind.POSTER.value, "survey.publication.posters:print_poster", max_attempts=3,
    interrupted="the poster was interrupted before it was printed: ask for it again",
)
