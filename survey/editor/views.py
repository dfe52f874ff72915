"""The questionnaire editor's pages under `/manage/questionnaires` (and a campaign's
questionnaire under `/manage/campaigns/<slug>/questionnaire`).

Every action is a plain form that posts and redirects back (303), so that the editor works
without JavaScript; each change can be undone (the last one), and deleting a draft asks first.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as HttpResponse

from questionnaires import QUESTION_TYPES, clean_page_answers, get_bundled, list_bundled
from questionnaires.compare import diff
from questionnaires.forms import next_page_index
from questionnaires.library import LIBRARY
from questionnaires.loader import read_yaml
from questionnaires.localized import SUPPORTED_LANGUAGES
from survey import CONTENT_SECURITY_POLICY
from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.campaigns.operations import CampaignError, get_campaign
from survey.editor import edits
from survey.editor import forms as editor_forms
from survey.editor import operations as ops
from survey.editor.problems import problem_text
from survey.extensions import db
from survey.respond.operations import NON_ANSWER_FIELDS

blueprint = Blueprint("editor", __name__, url_prefix="/manage")

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}

# What people read for the registry's type names and the fields that break a trend.
TYPE_LABELS = {
    "rating": _l("Satisfaction scale"),
    "nps": _l("Recommendation (0–10)"),
    "single_choice": _l("One choice"),
    "multiple_choice": _l("Several choices"),
    "yes_no": _l("Yes or no"),
    "text": _l("Free text"),
    "callback": _l("Callback request"),
}
FIELD_LABELS = {
    "type": _l("question type"),
    "label": _l("wording"),
    "show_if": _l("condition"),
    "min": _l("scale"),
    "max": _l("scale"),
    "labels": _l("labels of the scale"),
    "not_applicable": _l("“not applicable” option"),
    "choices": _l("choices"),
    "channels": _l("ways of contacting"),
}


# Reasons that say a text is missing in a language (the completeness check counts them).
_MISSING_TEXT = ("missing_language", "missing_and_undeclared_language")


@blueprint.app_context_processor
def editor_labels() -> dict[str, Any]:
    return {
        "type_label": lambda name: TYPE_LABELS.get(name, name),
        "field_label": lambda name: FIELD_LABELS.get(name, name),
    }


def _draft(key: str) -> Any:
    try:
        return ops.get_draft(db.session, key)
    except ops.EditorError:
        abort(404)


def _back(key: str, anchor: str | None = None) -> HttpResponse:
    return redirect(url_for(".draft", key=key, _anchor=anchor), 303)


def _languages(data: dict[str, Any]) -> list[str]:
    languages = data.get("languages")
    found = [lang for lang in languages if lang in SUPPORTED_LANGUAGES] \
        if isinstance(languages, list) else []
    return found or list(SUPPORTED_LANGUAGES)


def _apply(draft: Any, edit: Any, *args: Any, label: str) -> bool:
    """Make one change to the draft and commit it, saying so; False (and why) when refused."""
    try:
        ops.apply_edit(db.session, draft, edit, *args, label=label, actor=actor_label())
    except ops.EditorError as error:
        db.session.rollback()
        flash(problem_text(error), "error")
        return False
    db.session.commit()
    flash(label, "status")
    return True


def _edit(draft: Any, edit: Any, *args: Any, label: str, anchor: str | None = None
          ) -> HttpResponse:
    _apply(draft, edit, *args, label=label)
    return _back(draft.key, anchor)


# --- the list ---------------------------------------------------------------------------------


@blueprint.get("/questionnaires")
@roles_required(*READERS)
def index() -> str:
    drafts = [(draft, len(ops.check_draft(draft)[1])) for draft in ops.list_drafts(db.session)]
    versions: dict[str, list[Any]] = {}
    templates = {bundled.key for bundled in list_bundled()}
    for version in ops.list_versions(db.session):
        if version.key not in templates:
            versions.setdefault(version.key, []).append(version)
    draft_keys = {draft.key for draft, _ in drafts}
    return render_template("editor/index.html", templates=list_bundled(), drafts=drafts,
                           versions=versions, draft_keys=draft_keys)


@blueprint.post("/questionnaires/drafts")
@roles_required(*MANAGERS)
def create() -> HttpResponse:
    """A new draft: from a template, or from a frozen version (of the same key or a new one)."""
    source = request.form.get("source", "")
    key = (request.form.get("key") or "").strip()
    try:
        if source.startswith("template:"):
            draft = ops.draft_from_template(db.session, source.removeprefix("template:"), key,
                                            actor=actor_label())
        elif source.startswith("version:"):
            version_key, _sep, number = source.removeprefix("version:").rpartition(":")
            version = ops.get_version(db.session, version_key, int(number))
            draft = ops.draft_from_version(db.session, version, key or version.key,
                                           actor=actor_label())
        else:
            abort(400)
    except (ops.EditorError, ValueError) as error:
        db.session.rollback()
        flash(problem_text(error), "error")
        return redirect(url_for(".index"), 303)
    db.session.commit()
    flash(_("Draft %(key)s created.", key=draft.key), "status")
    return redirect(url_for(".draft", key=draft.key), 303)


@blueprint.post("/questionnaires/upload")
@roles_required(*MANAGERS)
def upload() -> HttpResponse:
    """A YAML file read into a new draft (saved even with errors, to be corrected here)."""
    upload = request.files.get("file")
    key = (request.form.get("key") or "").strip()
    if upload is None or not upload.filename:
        flash(_("Choose a YAML file to import."), "error")
        return redirect(url_for(".index"), 303)
    data, problems = read_yaml(upload.read(), upload.filename)
    if problems:
        for problem in problems:
            flash(f"{upload.filename}: {problem_text(problem)}", "error")
        return redirect(url_for(".index"), 303)
    if not isinstance(data, dict):
        flash(_("%(file)s does not hold a questionnaire definition.", file=upload.filename),
              "error")
        return redirect(url_for(".index"), 303)
    try:
        draft = ops.create_draft(db.session, key or str(data.get("id") or ""), data=data,
                                 actor=actor_label(), source=f"file:{upload.filename}")
    except ops.EditorError as error:
        db.session.rollback()
        flash(problem_text(error), "error")
        return redirect(url_for(".index"), 303)
    db.session.commit()
    flash(_("%(file)s imported as draft %(key)s.", file=upload.filename, key=draft.key),
          "status")
    return redirect(url_for(".draft", key=draft.key), 303)


# --- the editor -------------------------------------------------------------------------------


@blueprint.get("/questionnaires/drafts/<key>")
@roles_required(*READERS)
def draft(key: str) -> str:
    found = _draft(key)
    questionnaire, errors = ops.check_draft(found)
    languages = _languages(found.data)
    located = editor_forms.located_errors(errors)
    by_question: dict[tuple[int, int], int] = {}
    for error in located:
        if error["question"] is not None:
            where = (error["page"], error["question"])
            by_question[where] = by_question.get(where, 0) + 1
    missing = {
        lang: sum(1 for error in errors if error.reason in _MISSING_TEXT
                  and lang in str(error.params.get("missing", "")).split(", "))
        for lang in languages
    }
    return render_template(
        "editor/draft.html", draft=found, data=found.data, errors=located,
        by_question=by_question, languages=languages, language_names=LANGUAGE_NAMES,
        question_types=list(QUESTION_TYPES), library=LIBRARY, missing=missing,
        valid=questionnaire is not None,
        text_errors=editor_forms.errors_by_field(errors, ""),
    )


@blueprint.post("/questionnaires/drafts/<key>/texts")
@roles_required(*MANAGERS)
def texts(key: str) -> HttpResponse:
    found = _draft(key)
    languages = _languages(found.data)
    values: dict[str, Any] = {"version": (request.form.get("version") or "").strip()}
    for name in ("title", "introduction", "thank_you"):
        values[name] = editor_forms._text(request.form, name, languages)
    return _edit(found, edits.set_texts, values, label=_("Questionnaire texts saved."),
                 anchor="texts")


@blueprint.post("/questionnaires/drafts/<key>/pages")
@roles_required(*MANAGERS)
def add_page(key: str) -> HttpResponse:
    found = _draft(key)
    anchor = f"page-{len(found.data.get('pages') or [])}"
    return _edit(found, edits.add_page, label=_("Page added."), anchor=anchor)


@blueprint.post("/questionnaires/drafts/<key>/pages/<int:page>")
@roles_required(*MANAGERS)
def page(key: str, page: int) -> HttpResponse:
    found = _draft(key)
    action = request.form.get("action")
    anchor = f"page-{page}"
    number = page + 1
    if action == "title":
        title = editor_forms._text(request.form, "title", _languages(found.data))
        return _edit(found, edits.set_page_title, page, title,
                     label=_("Title of page %(n)s saved.", n=number), anchor=anchor)
    if action in ("up", "down"):
        offset = -1 if action == "up" else 1
        return _edit(found, edits.move_page, page, offset,
                     label=_("Page %(n)s moved.", n=number), anchor=f"page-{page + offset}")
    if action == "delete":
        return _edit(found, edits.delete_page, page,
                     label=_("Page %(n)s deleted.", n=number), anchor="pages")
    if action == "add_question":
        type_name = request.form.get("type", "")
        if type_name not in QUESTION_TYPES:
            abort(400)
        question = edits.new_question(found.data, type_name)
        if _apply(found, edits.add_question, page, question,
                  label=_("Question %(code)s added.", code=question["code"])):
            # Straight to the new question's form: its texts are still to be written.
            index = len(found.data["pages"][page]["questions"]) - 1
            return redirect(url_for(".question", key=key, page=page, index=index), 303)
        return _back(key, anchor)
    if action == "add_library":
        code = request.form.get("code", "")
        return _edit(found, edits.add_library_question, page, code,
                     label=_("Question %(code)s added.", code=code), anchor=anchor)
    abort(400)


@blueprint.post("/questionnaires/drafts/<key>/pages/<int:page>/questions/<int:index>/move")
@roles_required(*MANAGERS)
def question_action(key: str, page: int, index: int) -> HttpResponse:
    found = _draft(key)
    action = request.form.get("action")
    try:
        code = edits.question_at(found.data, page, index).get("code")
    except edits.EditError:
        abort(404)
    if action in ("up", "down"):
        offset = -1 if action == "up" else 1
        return _edit(found, edits.move_question, page, index, offset,
                     label=_("Question %(code)s moved.", code=code), anchor=f"page-{page}")
    if action == "duplicate":
        return _edit(found, edits.duplicate_question, page, index,
                     label=_("Question %(code)s duplicated.", code=code), anchor=f"page-{page}")
    if action == "delete":
        return _edit(found, edits.delete_question, page, index,
                     label=_("Question %(code)s deleted.", code=code), anchor=f"page-{page}")
    abort(400)


@blueprint.route("/questionnaires/drafts/<key>/pages/<int:page>/questions/<int:index>",
                 methods=["GET", "POST"])
@roles_required(*READERS)
def question(key: str, page: int, index: int) -> str | HttpResponse:
    """One question's form: texts side by side in every language, the type's own fields, and
    the condition typed or built with the helper (question, operator, value)."""
    found = _draft(key)
    languages = _languages(found.data)
    try:
        data = edits.question_at(found.data, page, index)
    except edits.EditError:
        abort(404)
    if request.method == "POST":
        from flask_login import current_user

        if current_user.role not in MANAGERS:
            abort(403)
        form = request.form
        if form.get("action") == "build_condition":
            data = editor_forms.question_from_form(form, data, languages)
            condition = _built_condition(found, form)
            if condition is not None:
                data["show_if"] = condition
        else:
            data = editor_forms.question_from_form(form, data, languages)
        code = data.get("code") or "?"
        _apply(found, edits.replace_question, page, index, data,
               label=_("Question %(code)s saved.", code=code))
        return redirect(url_for(".question", key=key, page=page, index=index), 303)
    _questionnaire, errors = ops.check_draft(found)
    prefix = f"pages[{page}].questions[{index}]"
    earlier = [
        question for page_index, page_data in enumerate(found.data.get("pages") or [])
        if page_index < page
        for question in (page_data or {}).get("questions") or []
        if isinstance(question, dict) and question.get("code")
    ]
    return render_template(
        "editor/question.html", draft=found, page=page, index=index, question=data,
        languages=languages, language_names=LANGUAGE_NAMES,
        question_types=list(QUESTION_TYPES), field_errors=editor_forms.errors_by_field(
            errors, prefix), field_names=editor_forms.field_names(errors, prefix),
        earlier=earlier, operators=editor_forms.OPERATORS,
    )


def _built_condition(found: Any, form: Any) -> str | None:
    code = form.get("condition_question") or ""
    operator = form.get("condition_operator") or ""
    value = form.get("condition_value") or ""
    if not code or operator not in editor_forms.OPERATORS or not value.strip():
        flash(_("To build a condition, choose a question, an operator and a value."), "error")
        return None
    target = next((question for page in found.data.get("pages") or []
                   for question in (page or {}).get("questions") or []
                   if isinstance(question, dict) and question.get("code") == code), None)
    return editor_forms.condition_text(operator, code, value,
                                       editor_forms.possible_values(target))


@blueprint.post("/questionnaires/drafts/<key>/undo")
@roles_required(*MANAGERS)
def undo(key: str) -> HttpResponse:
    found = _draft(key)
    try:
        label = ops.undo_last_change(db.session, found, actor=actor_label())
    except ops.EditorError as error:
        db.session.rollback()
        flash(problem_text(error), "error")
        return _back(key)
    db.session.commit()
    flash(_("Undone: %(change)s", change=label), "status")
    return _back(key)


@blueprint.post("/questionnaires/drafts/<key>/freeze")
@roles_required(*MANAGERS)
def freeze(key: str) -> HttpResponse:
    found = _draft(key)
    try:
        version = ops.freeze_draft(db.session, found, actor=actor_label())
    except ops.EditorError:
        db.session.rollback()
        flash(_("The draft has errors: correct them before freezing it."), "error")
        return _back(key, "errors")
    db.session.commit()
    flash(_("Version %(number)s of %(key)s frozen.", number=version.number, key=version.key),
          "status")
    return redirect(url_for(".versions", key=version.key), 303)


@blueprint.route("/questionnaires/drafts/<key>/delete", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def delete(key: str) -> str | HttpResponse:
    """Deleting a draft cannot be undone: the page asks first."""
    found = _draft(key)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        ops.delete_draft(db.session, found, actor=actor_label())
        db.session.commit()
        flash(_("Draft %(key)s deleted.", key=key), "status")
        return redirect(url_for(".index"), 303)
    return render_template("editor/delete.html", draft=found)


@blueprint.get("/questionnaires/drafts/<key>/export.yaml")
@roles_required(*READERS)
def export_draft(key: str) -> HttpResponse:
    from questionnaires import definition_yaml

    found = _draft(key)
    return _yaml_download(definition_yaml(found.data), f"{key}-draft.yaml")


def _yaml_download(text: str, filename: str) -> HttpResponse:
    return Response(text, mimetype="application/yaml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- live preview -----------------------------------------------------------------------------


def _preview_key(key: str, lang: str) -> str:
    return f"editor-preview:{key}:{lang}"


# The editor shows the respondent's pages in frames of its own page: these pages (only) may be
# framed by the application itself.
FRAMED_POLICY = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")


def _framed(html: str) -> HttpResponse:
    response = make_response(html)
    response.headers["Content-Security-Policy"] = FRAMED_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@blueprint.get("/questionnaires/drafts/<key>/preview")
@roles_required(*READERS)
def preview(key: str) -> str:
    """The draft as a customer sees it, in a phone-wide and a desktop-wide frame."""
    found = _draft(key)
    questionnaire, errors = ops.check_draft(found)
    languages = _languages(found.data)
    lang = request.args.get("in") if request.args.get("in") in languages else languages[0]
    return render_template("editor/preview.html", draft=found, valid=questionnaire is not None,
                           error_count=len(errors), lang=lang, languages=languages,
                           language_names=LANGUAGE_NAMES)


@blueprint.route("/questionnaires/drafts/<key>/preview/<lang>/<int:page>",
                 methods=["GET", "POST"])
@roles_required(*READERS)
def preview_page(key: str, lang: str, page: int) -> HttpResponse:
    """One page of the draft drawn with the respondent's template; answers are kept in the
    manager's session only, so that conditions can be played (answer, see what appears)."""
    from survey.respond.pages import render_preview

    found = _draft(key)
    questionnaire, _errors = ops.check_draft(found)
    if questionnaire is None or lang not in questionnaire.languages \
            or not 0 <= page < len(questionnaire.pages):
        abort(404)
    answers = json.loads(session.get(_preview_key(key, lang), "{}"))
    errors: dict[str, str] = {}
    formdata = None
    if request.method == "POST":
        with force_locale(lang):
            answers, errors = clean_page_answers(questionnaire, page, request.form, answers,
                                                 lang=lang, ignore=NON_ANSWER_FIELDS)
        session[_preview_key(key, lang)] = json.dumps(answers)
        if not errors:
            following = next_page_index(questionnaire, page, answers)
            if following is None:
                return redirect(url_for(".preview_end", key=key, lang=lang), 303)
            return redirect(url_for(".preview_page", key=key, lang=lang, page=following), 303)
        formdata = request.form
    visible = questionnaire.visible_by_page(answers)
    previous = max((i for i, shown in enumerate(visible) if shown and i < page), default=None)
    with force_locale(lang):
        return _framed(render_preview(
            questionnaire, page, lang, answers,
            action=url_for(".preview_page", key=key, lang=lang, page=page),
            previous_url=None if previous is None else url_for(
                ".preview_page", key=key, lang=lang, page=previous),
            csrf_token=generate_csrf(), errors=errors, formdata=formdata,
        ))


@blueprint.get("/questionnaires/drafts/<key>/preview/<lang>/end")
@roles_required(*READERS)
def preview_end(key: str, lang: str) -> HttpResponse:
    found = _draft(key)
    questionnaire, _errors = ops.check_draft(found)
    if questionnaire is None or lang not in questionnaire.languages:
        abort(404)
    answers = json.loads(session.get(_preview_key(key, lang), "{}"))
    with force_locale(lang):
        return _framed(render_template(
            "editor/preview_end.html", questionnaire_title=questionnaire.text("title", lang),
            thank_you=questionnaire.text("thank_you", lang), is_test=True,
            callback=any(isinstance(a, dict) and a.get("requested") for a in answers.values()),
            privacy=None, restart=url_for(".preview_restart", key=key, lang=lang),
        ))


@blueprint.post("/questionnaires/drafts/<key>/preview/<lang>/restart")
@roles_required(*READERS)
def preview_restart(key: str, lang: str) -> HttpResponse:
    _draft(key)
    session.pop(_preview_key(key, lang), None)
    return redirect(url_for(".preview_page", key=key, lang=lang, page=0), 303)


# --- versions ---------------------------------------------------------------------------------


@blueprint.get("/questionnaires/versions/<key>")
@roles_required(*READERS)
def versions(key: str) -> str:
    found = ops.list_versions(db.session, key)
    if not found:
        abort(404)
    has_draft = key in {draft.key for draft in ops.list_drafts(db.session)}
    changes = None
    older, newer = request.args.get("from", type=int), request.args.get("to", type=int)
    if older is not None and newer is not None:
        try:
            before = ops.version_questionnaire(ops.get_version(db.session, key, older))
            after = ops.version_questionnaire(ops.get_version(db.session, key, newer))
        except ops.EditorError:
            abort(404)
        changes = diff(before, after)
    return render_template("editor/versions.html", key=key, versions=found, changes=changes,
                           older=older, newer=newer, has_draft=has_draft,
                           lang=_display_language())


def _display_language() -> str:
    from flask_babel import get_locale

    locale = str(get_locale() or "fr")
    return locale if locale in SUPPORTED_LANGUAGES else "fr"


@blueprint.get("/questionnaires/versions/<key>/<int:number>.yaml")
@roles_required(*READERS)
def export_version(key: str, number: int) -> HttpResponse:
    try:
        text = ops.export_yaml(db.session, key, number)
    except ops.EditorError:
        abort(404)
    return _yaml_download(text, f"{key}-{number}.yaml")


@blueprint.get("/questionnaires/templates/<key>.yaml")
@roles_required(*READERS)
def export_template(key: str) -> HttpResponse:
    from questionnaires import definition_data, definition_yaml

    try:
        questionnaire = get_bundled(key)
    except KeyError:
        abort(404)
    return _yaml_download(definition_yaml(definition_data(questionnaire)), f"{key}.yaml")


# --- a campaign's questionnaire ---------------------------------------------------------------


@blueprint.route("/campaigns/<slug>/questionnaire", methods=["GET", "POST"])
@roles_required(*READERS)
def campaign_questionnaire(slug: str) -> str | HttpResponse:
    """The campaign's questionnaire version, a change of it while the campaign is in draft, and
    the comparability check against the programme's previous campaign, to confirm."""
    try:
        campaign = get_campaign(db.session, slug)
    except CampaignError:
        abort(404)
    if request.method == "POST":
        from flask_login import current_user

        if current_user.role not in MANAGERS:
            abort(403)
        try:
            if request.form.get("action") == "confirm":
                ops.confirm_trend_check(db.session, campaign, actor=actor_label())
                message = _("Comparability with the previous campaign confirmed.")
            else:
                version = ops.resolve_questionnaire(
                    db.session, request.form.get("questionnaire", ""), actor=actor_label())
                ops.publish_version(db.session, campaign, version, actor=actor_label())
                message = _("The campaign now uses %(key)s version %(number)s.",
                            key=version.key, number=version.number)
        except ops.EditorError as error:
            db.session.rollback()
            flash(problem_text(error), "error")
        else:
            db.session.commit()
            flash(message, "status")
        return redirect(url_for(".campaign_questionnaire", slug=slug), 303)
    return render_template("editor/campaign.html", campaign=campaign,
                           choices=ops.campaign_choices(db.session),
                           check=campaign.trend_check, lang=_display_language())
