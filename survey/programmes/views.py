"""A programme's survey method page: auditors read it, managers change it.

Thin view: the work is in `survey.programmes.operations`; the report's default sentences (what
the report says of a blank field) are shown beside each field.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.clients.lookup import programme_or_404
from survey.extensions import db
from survey.programmes.forms import MethodForm
from survey.programmes.operations import METHOD_FIELDS, MethodError, method_of, update_method
from survey.reporting.texts import method_default

blueprint = Blueprint("programmes", __name__)


@blueprint.route("/manage/programmes/<int:programme_id>/method", methods=["GET", "POST"])
@roles_required(*READERS)
def method(programme_id: int) -> WerkzeugResponse | tuple[str, int]:
    programme = programme_or_404(programme_id)
    form = MethodForm(prefix="method")
    status = 200
    if request.method == "POST":
        if current_user.role not in MANAGERS:
            abort(403)
        if form.validate_on_submit():
            try:
                changed = update_method(
                    db.session, programme,
                    {name: getattr(form, name).data for name in METHOD_FIELDS},
                    actor=actor_label(), actor_id=current_user.id,
                )  # fmt: skip
            except MethodError as error:
                db.session.rollback()
                name, _sep, message = str(error).partition(": ")
                target = getattr(form, name, form.objectives)
                target.errors = [*target.errors, message or str(error)]
            else:
                db.session.commit()
                flash(_("Survey method saved.") if changed else _("Nothing changed."), "ok")
                return redirect(url_for(".method", programme_id=programme.id), 303)
        status = 422
    else:
        for name, value in method_of(programme).items():
            getattr(form, name).data = value or ""
    lang = "en" if str(get_locale() or "fr") == "en" else "fr"
    defaults = {name: method_default(name, lang, programme.name) for name in METHOD_FIELDS}
    return render_template(
        "programmes/method.html", programme=programme, form=form, fields=METHOD_FIELDS,
        values=method_of(programme), defaults=defaults,
    ), status  # fmt: skip
