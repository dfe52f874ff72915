from flask import Blueprint, render_template
from sqlalchemy import select

from survey.extensions import db
from survey.models import Campaign, Programme, Report

blueprint = Blueprint("main", __name__)


@blueprint.route("/")
def home() -> str:
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    campaigns = db.session.scalars(
        select(Campaign).order_by(Campaign.year.desc(), Campaign.slug)
    ).all()
    reported = set(db.session.scalars(select(Report.campaign_id).distinct()))
    return render_template("main/home.html", programmes=programmes, campaigns=campaigns,
                           reported=reported)
