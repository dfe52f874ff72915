"""The performance criteria page of a programme (managers), and its publication.

Thin views: the work is in `survey.publication.criteria` and `survey.publication.results`.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from questionnaires.localized import localize
from questionnaires.questions import RatingQuestion
from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.clients.lookup import programme_or_404
from survey.extensions import db
from survey.formatting import number as format_number
from survey.models import Campaign, CriterionValue, PerformanceCriterion, Programme
from survey.publication import criteria as ops
from survey.publication import pack as _pack  # noqa: F401 - registers the pack section
from survey.publication import results
from survey.publication.forms import (
    CriteriaFileForm,
    CriterionForm,
    CriterionValueForm,
    PublishForm,
    WithdrawForm,
)
from survey.reporting.dataset import load_questionnaire

blueprint = Blueprint("publication", __name__)


#: Why a criterion, a value or a file is refused, in the reader's language, by the error's
#: `reason` (`survey.publication.criteria`); the English message is the command line's.
PROBLEMS = {
    "unknown_programme": _l("There is no programme named %(value)s."),
    "bad_code": _l("“%(value)s” is not a criterion code (lower-case letters, digits, '-' and "
                   "'_', up to 50 characters)."),
    "bad_choice": _l("“%(value)s” is not one of the choices."),
    "labels_missing": _l("The criterion needs a French and an English label."),
    "label_too_long": _l("%(max)s characters at most."),
    "rate_target": _l("A rate's target is a percentage up to 100, not %(value)s."),
    "unit_fixed": _l("The criterion %(code)s already has values: its unit cannot change."),
    "bad_month": _l("“%(value)s” is not a month written YYYY-MM."),
    "not_a_number": _l("“%(value)s” is not a number."),
    "not_a_whole_number": _l("“%(value)s” is not a whole number."),
    "rate_needs_counts": _l("A rate needs its numerator and denominator."),
    "zero_cases": _l("Zero cases: leave the month out instead."),
    "numerator_too_big": _l("%(top)s is more than the denominator %(bottom)s."),
    "rate_disagrees": _l("%(value)s %% does not agree with %(top)s/%(bottom)s = %(share)s %%."),
    "counts_only_for_rates": _l("Only a rate has a numerator and a denominator."),
    "value_missing": _l("The value is missing."),
    "below_zero": _l("%(value)s is below zero."),
    "unreadable_file": _l("The file could not be read as text."),
    "empty_file": _l("The file is empty."),
    "unreadable_csv": _l("Line %(line)s: the CSV cannot be read."),
    "unknown_column": _l("Unknown column (expected %(columns)s)."),
    "column_missing": _l("Column missing."),
    "too_many_rows": _l("More than %(max)s rows."),
    "extra_cells": _l("More cells than columns."),
    "unknown_criterion": _l("“%(value)s” is not a criterion of the programme (%(known)s)."),
    "duplicate_month": _l("%(code)s %(month)s is already on line %(line)s."),
    "no_rows": _l("No rows after the header."),
}


def problem_text(error: object) -> str:
    """A refusal (`CriteriaError`, a file's `LineError` or `FileProblem`) in the reader's
    language; its English message when its reason has no words here."""
    text = PROBLEMS.get(str(getattr(error, "reason", None)))
    params = {key: (format_number(value) if isinstance(value, float) else value)
              for key, value in dict(getattr(error, "params", {}) or {}).items()}
    if getattr(error, "reason", None) == "unknown_criterion" and not params.get("known"):
        params["known"] = _("none defined")
    if text is None:
        return str(getattr(error, "message", None) or error).partition(": ")[2] or str(error)
    try:
        return str(text) % params
    except (KeyError, TypeError, ValueError):
        return str(error)


def file_problems(errors: list) -> list:
    """A refused file's errors for its page: a line's error with its line and field, the
    others as sentences, all in the reader's language."""
    return [{"line": e.line, "field": e.field, "message": problem_text(e)}
            if isinstance(e, ops.LineError) else problem_text(e) for e in errors]



def _lang() -> str:
    return "en" if str(get_locale() or "fr") == "en" else "fr"


def _programme(programme_id: int) -> Programme:
    return programme_or_404(programme_id)


def item_labels(programme: Programme, lang: str) -> dict[str, str]:
    """The rating items of the programme's latest questionnaire, by code, in `lang`."""
    campaign = db.session.scalars(select(Campaign).where(Campaign.programme_id == programme.id)
                                  .order_by(Campaign.year.desc(), Campaign.id.desc())).first()
    if campaign is None:
        return {}
    questionnaire = load_questionnaire(campaign)
    return {question.code: localize(question.label, lang)
            for _page, question in questionnaire.questions()
            if isinstance(question, RatingQuestion)}


def _months(programme: Programme, count: int = 12) -> list[str]:
    latest = db.session.scalar(
        select(func.max(CriterionValue.month)).join(PerformanceCriterion)
        .where(PerformanceCriterion.programme_id == programme.id))
    until = date(int(latest[:4]), int(latest[5:]), 1) if latest else date.today()
    return ops.last_months(until, count)


def _forms(programme: Programme, items: dict[str, str]):
    define = CriterionForm(prefix="define")
    define.item.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(code, label) for code, label in items.items()]
    upload = CriteriaFileForm(prefix="upload")
    value = CriterionValueForm(prefix="value")
    value.criterion.choices = [
        SelectChoice(c.code, c.label_en if _lang() == "en" else c.label_fr)
        for c in ops.criteria_of(db.session, programme)]
    return define, upload, value


def _page(programme: Programme, define, upload, value, *, file_errors=None,
          status: int = 200) -> tuple[str, int]:
    lang = _lang()
    items = item_labels(programme, lang)
    months = _months(programme)
    return render_template(
        "publication/criteria.html", programme=programme, lang=lang, items=items,
        months=months, table=ops.criteria_table(db.session, programme, months),
        define=define, upload=upload, value=value, file_errors=file_errors or [],
    ), status  # fmt: skip


@blueprint.route("/manage/programmes")
@roles_required(*READERS)
def programmes() -> str:
    rows = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    return render_template("publication/programmes.html", programmes=rows)


@blueprint.route("/manage/programmes/<int:programme_id>/criteria")
@roles_required(*READERS)
def criteria(programme_id: int) -> tuple[str, int]:
    programme = _programme(programme_id)
    return _page(programme, *_forms(programme, item_labels(programme, _lang())))


@blueprint.route("/manage/programmes/<int:programme_id>/criteria/define", methods=["POST"])
@roles_required(*MANAGERS)
def define_criterion(programme_id: int) -> WerkzeugResponse | tuple[str, int]:
    programme = _programme(programme_id)
    define, upload, value = _forms(programme, item_labels(programme, _lang()))
    if define.validate_on_submit():
        try:
            ops.define_criterion(
                db.session, programme, code=define.code.data, label_fr=define.label_fr.data,
                label_en=define.label_en.data, unit=define.unit.data,
                target=ops.target_from_display(define.unit.data, define.target.data),
                direction=define.direction.data, item=define.item.data or None,
                actor=actor_label(), actor_id=current_user.id,
            )  # fmt: skip
        except ops.CriteriaError as error:
            db.session.rollback()
            target = {"label": define.label_fr}.get(error.field) or getattr(define, error.field,
                                                                              define.code)
            target.errors = [*target.errors, problem_text(error)]
        else:
            db.session.commit()
            flash(_("Criterion %(code)s saved.", code=define.code.data), "ok")
            return redirect(url_for(".criteria", programme_id=programme.id), 303)
    return _page(programme, define, upload, value, status=422)


@blueprint.route("/manage/programmes/<int:programme_id>/criteria/import", methods=["POST"])
@roles_required(*MANAGERS)
def import_criteria(programme_id: int) -> WerkzeugResponse | tuple[str, int]:
    programme = _programme(programme_id)
    define, upload, value = _forms(programme, item_labels(programme, _lang()))
    if not upload.validate_on_submit():
        return _page(programme, define, upload, value, status=422)
    storage = upload.file.data
    name = (storage.filename or "criteria.csv").rsplit("/", 1)[-1][-200:]
    try:
        result = ops.import_criteria_file(db.session, programme, storage.read(), name,
                                          actor=actor_label(), actor_id=current_user.id)
    except ops.CriteriaFileError as error:
        db.session.rollback()
        return _page(programme, define, upload, value, file_errors=file_problems(error.errors),
                     status=422)
    except ops.CriteriaError as error:
        db.session.rollback()
        return _page(programme, define, upload, value, file_errors=[problem_text(error)],
                     status=422)
    db.session.commit()
    flash(_("%(file)s imported: %(created)s months added, %(updated)s changed, %(unchanged)s "
            "unchanged.", file=name, created=result.created, updated=result.updated,
            unchanged=result.unchanged), "ok")
    return redirect(url_for(".criteria", programme_id=programme.id), 303)


@blueprint.route("/manage/programmes/<int:programme_id>/criteria/value", methods=["POST"])
@roles_required(*MANAGERS)
def record_value(programme_id: int) -> WerkzeugResponse | tuple[str, int]:
    programme = _programme(programme_id)
    define, upload, value = _forms(programme, item_labels(programme, _lang()))
    if value.validate_on_submit():
        criterion = next((c for c in ops.criteria_of(db.session, programme)
                          if c.code == value.criterion.data), None)
        if criterion is None:
            abort(400)
        try:
            ops.record_value(db.session, criterion, value.month.data, value=value.value.data,
                             numerator=value.numerator.data, denominator=value.denominator.data,
                             actor=actor_label(), actor_id=current_user.id)
        except ops.CriteriaError as error:
            db.session.rollback()
            target = getattr(value, error.field, value.value)
            target.errors = [*target.errors, problem_text(error)]
        else:
            db.session.commit()
            flash(_("Value recorded."), "ok")
            return redirect(url_for(".criteria", programme_id=programme.id), 303)
    return _page(programme, define, upload, value, status=422)


# --- publishing -----------------------------------------------------------------------------


@blueprint.route("/manage/programmes/<int:programme_id>/publication", methods=["GET", "POST"])
@roles_required(*READERS)
def publication(programme_id: int) -> WerkzeugResponse | tuple[str, int]:
    programme = _programme(programme_id)
    current = results.publication_of(db.session, programme)
    form = PublishForm(prefix="publish")
    status = 200
    if request.method == "POST":
        if current_user.role not in MANAGERS:
            abort(403)
        if form.validate_on_submit():
            try:
                done = results.publish(db.session, programme, slug=form.slug.data,
                                       actor=actor_label(), actor_id=current_user.id)
            except results.PublicationError as error:
                db.session.rollback()
                form.slug.errors = [*form.slug.errors, str(error).partition(": ")[2]
                                    or str(error)]
            else:
                from survey.publication.public import queue_posters

                # Printed by a worker now, so that visitors find the posters ready.
                queue_posters(done, actor=actor_label())
                db.session.commit()
                address = url_for("public.page", publication_slug=done.slug, _external=True)
                flash(_("The results are published at %(url)s.", url=address), "ok")
                return redirect(url_for(".publication", programme_id=programme.id), 303)
        status = 422
    elif not form.slug.data:
        form.slug.data = current.slug if current else results.suggested_slug(programme.name)
    return render_template(
        "publication/publication.html", programme=programme, publication=current, form=form,
        withdraw=WithdrawForm(prefix="withdraw"),
        campaign=results.latest_closed_campaign(db.session, programme),
    ), status  # fmt: skip


@blueprint.route("/manage/programmes/<int:programme_id>/publication/withdraw",
                 methods=["POST"])
@roles_required(*MANAGERS)
def withdraw(programme_id: int) -> WerkzeugResponse:
    programme = _programme(programme_id)
    form = WithdrawForm(prefix="withdraw")
    if not form.validate_on_submit():
        abort(400)
    try:
        results.withdraw(db.session, programme, actor=actor_label(), actor_id=current_user.id)
    except results.PublicationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".publication", programme_id=programme.id), 303)
    db.session.commit()
    flash(_("The results are withdrawn: their public page no longer exists."), "ok")
    return redirect(url_for(".publication", programme_id=programme.id), 303)
