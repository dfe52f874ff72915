"""The question library: one ready-made question per commitment of the NF Service "Centre de
relation client" mark, to insert into a questionnaire.

Each entry is the question of the bundled ``nf-relation-client`` template with the same code, so
that a centre inserting it measures what every other centre measures, with a stable code (the
trend and any benchmark rely on the code). Conditions are left out: they read questions the
questionnaire may not have; the author adds one if needed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from questionnaires.loader import definition_data, get_bundled

__all__ = ["LIBRARY", "LibraryEntry", "library_question"]

TEMPLATE = "nf-relation-client"


@dataclass(frozen=True)
class LibraryEntry:
    code: str
    commitment: dict[str, str]  # what the NF commitment is about, in each language


LIBRARY: tuple[LibraryEntry, ...] = (
    LibraryEntry("ease_of_reaching", {"fr": "Accessibilité du service", "en": "Reachability"}),
    LibraryEntry("cost_information", {"fr": "Information sur le coût", "en": "Cost information"}),
    LibraryEntry("phone_wait", {"fr": "Temps d’attente", "en": "Waiting time"}),
    LibraryEntry("written_reply_time", {"fr": "Délai de réponse", "en": "Reply time"}),
    LibraryEntry("courtesy", {"fr": "Courtoisie", "en": "Courtesy"}),
    LibraryEntry("confidentiality", {"fr": "Confidentialité", "en": "Confidentiality"}),
    LibraryEntry("answer_reliability", {"fr": "Fiabilité des réponses",
                                        "en": "Reliability of answers"}),
    LibraryEntry("mutual_understanding", {"fr": "Compréhension mutuelle",
                                          "en": "Mutual understanding"}),
    LibraryEntry("next_steps", {"fr": "Suivi de la demande", "en": "Follow-up"}),
    LibraryEntry("complaint_handling", {"fr": "Traitement des réclamations",
                                        "en": "Complaints"}),
    LibraryEntry("overall", {"fr": "Satisfaction globale", "en": "Overall satisfaction"}),
    LibraryEntry("nps", {"fr": "Recommandation (NPS)", "en": "Recommendation (NPS)"}),
)


def library_question(code: str) -> dict[str, Any]:
    """The definition data of library question ``code`` (a fresh copy, without condition)."""
    if code not in {entry.code for entry in LIBRARY}:
        known = ", ".join(entry.code for entry in LIBRARY)
        raise KeyError(f"no library question '{code}' (known: {known})")
    for page in definition_data(get_bundled(TEMPLATE))["pages"]:
        for question in page["questions"]:
            if question["code"] == code:
                found = copy.deepcopy(question)
                found.pop("show_if", None)
                return found
    raise LookupError(f"the template '{TEMPLATE}' has lost library question '{code}'")
