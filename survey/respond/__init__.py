"""The respondent's pages: a personal link, the questionnaire page by page, a thank-you page.

`operations` holds the rules (which links work, how a page is saved once, completion and its
follow-ups, test links); `views` only reads requests and renders `templates/respond/`.
"""

from __future__ import annotations

# The notice shown on the first page and in every respondent page's footer, until the centre
# writes its own in the `PRIVACY_NOTICE_FR` / `PRIVACY_NOTICE_EN` configuration keys. It says
# who processes the data, why, for how long and how to object (GDPR articles 13 and 21).
DEFAULT_PRIVACY_NOTICE = {
    "fr": (
        "Vos réponses sont traitées par notre service client, responsable du traitement, pour "
        "mesurer et améliorer la qualité de son service (intérêt légitime). Elles sont analysées "
        "sans votre nom et conservées 3 ans, sauf si vous demandez à être recontacté : vos "
        "coordonnées sont alors transmises au conseiller chargé de vous répondre. Vous pouvez "
        "vous opposer à ce traitement, ou accéder à vos données et les faire effacer, en "
        "écrivant à notre délégué à la protection des données ; vous pouvez aussi saisir la CNIL."
    ),
    "en": (
        "Your answers are processed by our customer service, the data controller, to measure "
        "and improve the quality of its service (legitimate interest). They are analysed "
        "without your name and kept for 3 years, unless you ask to be contacted: your contact "
        "details are then passed to the adviser who will answer you. You can object to this "
        "processing, or access your data and have it erased, by writing to our data protection "
        "officer; you can also complain to the CNIL, the French data protection authority."
    ),
}


def privacy_notice(config: dict, lang: str) -> str:
    """The privacy notice of the invitation's client when it wrote one, else the configured
    one in `lang` (French when the language has none)."""
    from survey.branding import current_branding

    own = current_branding().privacy_notice
    if own:
        return own
    key = f"PRIVACY_NOTICE_{lang.upper()}"
    return config.get(key) or DEFAULT_PRIVACY_NOTICE.get(lang) or DEFAULT_PRIVACY_NOTICE["fr"]
