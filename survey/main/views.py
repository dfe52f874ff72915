from datetime import date

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from survey.auth.roles import MANAGERS
from survey.extensions import db
from survey.followups.operations import loop_counts
from survey.improvement.operations import due_actions
from survey.main.dashboard import campaign_cards
from survey.models import Campaign, Programme, Report

blueprint = Blueprint("main", __name__)


@blueprint.route("/")
def home() -> str:
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    campaigns = db.session.scalars(
        select(Campaign).order_by(Campaign.year.desc(), Campaign.slug)
    ).all()
    reported = set(db.session.scalars(select(Report.campaign_id).distinct()))
    loop = plan = None
    if current_user.is_authenticated and current_user.role in MANAGERS:
        loop = {"all": loop_counts(db.session),
                "mine": loop_counts(db.session, owner_id=current_user.id)}
        today = date.today()
        actions, overdue, soon = due_actions(db.session, today=today)
        plan = {"actions": actions, "overdue": overdue, "soon": soon, "today": today}
    cards = campaign_cards(db.session, list(campaigns)) if current_user.is_authenticated else []
    return render_template("main/home.html", programmes=programmes, campaigns=campaigns,
                           reported=reported, loop=loop, cards=cards, plan=plan)
