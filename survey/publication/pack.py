"""The performance criteria in the auditor's pack (`survey.auditpack`): NF Service's
documentary control checks "the follow-up of performance criteria". The pack's `performance/`
folder holds the programme's criteria over the campaign's year, month by month against their
targets, as CSV and JSON (no personal data: the centre's own aggregate figures)."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from survey.auditpack.registry import register_pack_section
from survey.csvsafe import safe_row
from survey.models import Campaign
from survey.publication.criteria import criteria_table, months_between

COLUMNS = ("criterion", "label_fr", "label_en", "unit", "target", "direction", "item", "month",
           "value", "numerator", "denominator", "met")


def performance_files(session: Session, campaign: Campaign) -> dict[str, bytes]:
    table = criteria_table(session, campaign.programme,
                           months_between(f"{campaign.year}-01", f"{campaign.year}-12"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in table:
        for month in row["months"]:
            writer.writerow(safe_row([
                row["code"], row["label"]["fr"], row["label"]["en"], row["unit"],
                repr(row["target"]), row["direction"], row["item"] or "", month["month"],
                "" if month["value"] is None else repr(month["value"]),
                "" if month["numerator"] is None else month["numerator"],
                "" if month["denominator"] is None else month["denominator"],
                "" if month["met"] is None else str(month["met"]).lower(),
            ]))
    document = {"programme": campaign.programme.name, "year": campaign.year, "criteria": table}
    return {
        "criteria.csv": out.getvalue().encode("utf-8"),
        "criteria.json": (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(),
    }


register_pack_section("performance", performance_files)
