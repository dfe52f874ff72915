# ruff: noqa: E501  (a table of sentences: one line per wording reads best)
"""The report's wording in French and English.

The report is a document generated in a chosen language, outside any web request, so its words
live here rather than in the web application's message catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable

LANGUAGES = ("fr", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # key: (fr, en)
    "report_title": (
        "Rapport annuel de satisfaction client",
        "Annual customer-satisfaction report",
    ),
    "provisional": ("Provisoire : terrain en cours", "Provisional: fieldwork still running"),
    "generated": ("Généré le", "Generated on"),
    "contents": ("Sommaire", "Contents"),
    "s_summary": ("Synthèse", "Summary"),
    "s_method": ("Méthode", "Method"),
    "s_results": ("Résultats par question", "Results per question"),
    "s_domains": ("Résultats par domaine", "Results per domain"),
    "s_trend": ("Évolution", "Trend"),
    "s_drivers": ("Leviers de satisfaction", "Key drivers"),
    "s_reliability": ("Fiabilité de l’indice composite", "Reliability of the composite index"),
    "s_follow_ups": ("Suivi des clients insatisfaits", "Follow-up of dissatisfied customers"),
    "s_verbatims": ("Verbatims", "Verbatims"),
    "s_criteria": ("Critères de performance", "Performance criteria"),
    "criteria_intro": (
        "Les engagements du centre mesurés par ses propres outils (téléphonie, gestion des demandes), mois par mois en {year}, face à leur cible, et à côté la satisfaction des clients sur le même engagement quand le questionnaire la mesure.",
        "The centre's commitments as its own tools measure them (telephony, ticketing), month by month in {year}, against their targets, beside the customers' satisfaction with the same commitment where the questionnaire measures it.",
    ),
    "criteria_caption": ("Critères de performance en {year} face à leur cible", "Performance criteria in {year} against their targets"),
    "criteria_months_caption": ("Valeurs mensuelles", "Monthly values"),
    "criteria_year_value": ("Sur l'année", "Over the year"),
    "criteria_months_met": ("Mois à la cible", "Months on target"),
    "criteria_satisfaction": ("Satisfaits sur cet engagement", "Satisfied with this commitment"),
    "criteria_missed_mark": ("✗ : cible non atteinte ce mois-là ; – : pas de valeur. Sur l'année, un taux rapporte la somme des numérateurs à celle des dénominateurs ; un délai est la moyenne des mois.", "✗: target missed that month; –: no value. Over the year, a rate divides the sum of the numerators by that of the denominators; a delay is the mean of the months."),
    "criteria_none": ("Aucun critère de performance n'est défini pour ce programme.", "No performance criterion is defined for this programme."),
    "criterion": ("Critère", "Criterion"),
    "target": ("Cible", "Target"),
    "direction_higher": ("≥", "≥"),
    "direction_lower": ("≤", "≤"),
    "met": ("atteinte", "met"),
    "missed": ("non atteinte", "missed"),
    "unit_seconds": ("s", "s"),
    "unit_days": ("j", "days"),
    "s_improvement": ("Plan d’amélioration", "Improvement plan"),
    "improvement_intro": (
        "Les actions décidées à partir des résultats de {year} : {done} {done|réalisée|réalisées} sur {total}. Pour chaque action qui vise un indicateur, son estimation de {year} et celle de cette année, leur écart avec son intervalle de confiance et son test, le même que pour l’évolution d’une année sur l’autre (échantillons indépendants, t de Student aux degrés de liberté de Welch–Satterthwaite) ; la p-valeur est corrigée par la méthode de Holm sur {family} {family|indicateur|indicateurs} que vise le plan.",
        "The actions decided from the {year} results: {done} done out of {total}. For each action aiming at an indicator, its {year} estimate beside this year's, their difference with its confidence interval and its test, the same as the year-on-year change (independent samples, Student's t with Welch–Satterthwaite degrees of freedom); the p-value is Holm-adjusted over the {family} {family|indicator|indicators} the plan aims at.",
    ),
    "improvement_caption": ("Suivi des actions décidées à partir des résultats de {year}", "Follow-up of the actions decided from the {year} results"),
    "improvement_none_followed": ("Aucune action d’amélioration n’a été décidée à partir des résultats de {year}.", "No improvement action was decided from the {year} results."),
    "improvement_none": ("Aucune action d’amélioration n’est enregistrée pour ce programme.", "No improvement action is recorded for this programme."),
    "improvement_decided_caption": ("Actions déjà décidées à partir des résultats de {year}", "Actions already decided from the {year} results"),
    "improvement_trend_broken": ("question modifiée depuis : pas de comparaison", "question changed since: no comparison"),
    "improvement_no_indicator": ("aucun indicateur visé", "no indicator aimed at"),
    "improvement_no_estimate": ("pas d’estimation comparable", "no comparable estimate"),
    "improvement_reading": ("Cible : la valeur que l’action vise pour l’indicateur, atteinte quand l’estimation de cette année l’égale ou la dépasse.", "Target: the value the action aims at for the indicator, met when this year's estimate equals or exceeds it."),
    "action": ("Action", "Action"),
    "action_status": ("État", "Status"),
    "action_due": ("échéance {date}", "due {date}"),
    "action_done_on": ("le {date}", "on {date}"),
    "action_item": ("Question : {text}", "Question: {text}"),
    "action_commitment": ("Engagement : {text}", "Commitment: {text}"),
    "action_planned": ("Prévue", "Planned"),
    "action_in_progress": ("En cours", "In progress"),
    "action_done": ("Réalisée", "Done"),
    "action_abandoned": ("Abandonnée", "Abandoned"),
    "s_annex": ("Annexe", "Annex"),
    "indicator": ("Indicateur", "Indicator"),
    "estimate": ("Estimation", "Estimate"),
    "interval": ("Intervalle de confiance à {level} %", "{level}% confidence interval"),
    "ci": ("IC", "CI"),
    "respondents": ("Répondants", "Respondents"),
    "n": ("n", "n"),
    "satisfied_share": ("Part de clients satisfaits", "Share of satisfied customers"),
    "mean_overall": ("Note moyenne de satisfaction globale", "Mean overall score"),
    "nps": ("Net Promoter Score (NPS)", "Net Promoter Score (NPS)"),
    "index": ("Indice composite de satisfaction (0–100)", "Composite satisfaction index (0–100)"),
    "change": ("Évolution depuis {year}", "Change since {year}"),
    "previous": ("{year}", "{year}"),
    "difference": ("Écart", "Difference"),
    "significant": ("Significatif", "Significant"),
    "yes": ("oui", "yes"),
    "no": ("non", "no"),
    "p_holm": ("p ajustée (Holm)", "p adjusted (Holm)"),
    "no_previous": (
        "Aucune campagne antérieure du programme : pas d’évolution à calculer.",
        "No earlier campaign in the programme: no change to compute.",
    ),
    "margin_line": (
        "Marge d’erreur atteinte sur la part de satisfaits : ±{achieved} points, pour un objectif de ±{target} points ({verdict}).",
        "Margin of error achieved on the satisfied share: ±{achieved} points, against a target of ±{target} points ({verdict}).",
    ),
    "margin_met": ("objectif atteint", "target met"),
    "margin_missed": ("objectif non atteint", "target missed"),
    "margin_no_target": (
        "Marge d’erreur atteinte sur la part de satisfaits : ±{achieved} points (aucun objectif déclaré).",
        "Margin of error achieved on the satisfied share: ±{achieved} points (no target declared).",
    ),
    "summary_reading": (
        "{n} {n|client a répondu|clients ont répondu}. Les intervalles sont à {level} % ; un écart n’est dit significatif qu’après correction de Holm.",
        "{n} {n|customer|customers} answered. Intervals are at {level}%; a change is called significant only after Holm's correction.",
    ),
    # method
    "m_population": ("Population et base de sondage", "Population and frame"),
    "m_population_text": (
        "Population cible : les clients de la base du centre ayant été en contact avec le service client, hors exclusions. Base figée au tirage du {drawn} : {size} {size|client|clients}, empreinte SHA-256 {sha}.",
        "Target population: the customers of the centre's base who contacted customer service, exclusions removed. Frame frozen at the draw on {drawn}: {size} {size|customer|customers}, SHA-256 {sha}.",
    ),
    "m_exclusions": ("Exclusions par règle", "Exclusions by rule"),
    "rule": ("Règle", "Rule"),
    "count": ("Nombre", "Count"),
    "m_sample": ("Plan de sondage", "Sample design"),
    "m_sample_text": (
        "Sondage aléatoire simple stratifié sans remise (ISO 20252, exigences sur l’échantillonnage). Strates : {strata} ; allocation : {allocation} ; marge cible ±{margin} points à {level} % ; taux de réponse attendu {rate} ; graine aléatoire {seed} (même base + même plan + même graine = même échantillon).",
        "Stratified simple random sampling without replacement (ISO 20252, requirements on sampling). Strata: {strata}; allocation: {allocation}; target margin ±{margin} points at {level}%; expected response rate {rate}; random seed {seed} (same frame + same plan + same seed = same sample).",
    ),
    "m_fieldwork": ("Terrain", "Fieldwork"),
    "m_fieldwork_text": (
        "Du {start} au {end}. Canaux d’invitation : {channels}. {days|Relance|Relances} aux non-répondants à J+{reminders}.",
        "From {start} to {end}. Invitation channels: {channels}. {days|Reminder|Reminders} to non-respondents on {days|day|days} {reminders}.",
    ),
    "m_dispositions": ("Issues des invitations et taux AAPOR", "Dispositions and AAPOR rates"),
    "m_aapor_text": (
        "Taux selon les Standard Definitions de l’AAPOR (10e éd.) : chaque client tiré est éligible sauf preuve contraire, d’où RR3 = RR1.",
        "Rates follow AAPOR's Standard Definitions (10th ed.): every sampled customer is eligible unless shown not to be, hence RR3 = RR1.",
    ),
    "disposition": ("Issue", "Disposition"),
    "stratum": ("Strate", "Stratum"),
    "population": ("Population", "Population"),
    "invited": ("Invités", "Invited"),
    "overall_row": ("Ensemble", "All"),
    "m_weighting": ("Pondération", "Weighting"),
    "m_weighting_text": (
        "Poids de base Nₕ / rₕ (population de la strate sur ses répondants), qui redressent la non-réponse par strate.",
        "Base weights Nₕ / rₕ (stratum population over its respondents), which adjust for non-response within strata.",
    ),
    "m_weights_only": (
        "Poids de sondage des invitations (pas d’effectifs de base enregistrés).",
        "Design weights of the invitations (no frame counts recorded).",
    ),
    "m_calibration": (
        "Calage ({method}) sur les marges : {margins}.",
        "Calibration ({method}) to the margins: {margins}.",
    ),
    "effective_n": ("Taille d’échantillon effective (Kish)", "Effective sample size (Kish)"),
    "deff_w": ("Effet de plan dû à la pondération", "Design effect of weighting"),
    "weight_range": ("Poids minimum et maximum", "Smallest and largest weight"),
    "w_cv": ("Coefficient de variation des poids", "Coefficient of variation of the weights"),
    "w_calibration_rake": (
        "Les poids sont ensuite calés par raking (ajustement proportionnel itératif) sur les marges de : {variables}.",
        "The weights are then raked (iterative proportional fitting) to the margins of: {variables}.",
    ),
    "w_calibration_poststratify": (
        "Les poids sont ensuite post-stratifiés sur : {variables}.",
        "The weights are then post-stratified on: {variables}.",
    ),
    "w_source_frame": (
        "Les marges sont les effectifs de la base clients au moment du tirage, enregistrés avec lui (un import ultérieur ne les change pas).",
        "The margins are the customer base's counts at the draw, stored with it (a later import does not change them).",
    ),
    "w_source_manual": (
        "Les marges sont des effectifs de population connus, saisis à la main (source : {reference}).",
        "The margins are known population counts entered by hand (source: {reference}).",
    ),
    "w_converged": ("Le calage a convergé en {iterations} {iterations|itération|itérations}.", "The calibration converged in {iterations} {iterations|iteration|iterations}."),
    "w_no_calibration": (
        "Aucun calage sur des marges n’est appliqué.",
        "No calibration to margins is applied.",
    ),
    "w_not_applied": (
        "Le calage choisi n’a pas pu être appliqué ({reason}) : les estimations utilisent les poids de base.",
        "The chosen calibration could not be applied ({reason}): the estimates use the base weights.",
    ),
    "w_trimming": (
        "Poids supérieurs à {ratio} fois la médiane",
        "Weights above {ratio} times the median",
    ),
    "w_trimming_text": (
        "Aucun poids n’est écrêté : les estimations restent celles du package R survey ; les poids au-delà du seuil sont comptés pour juger de leur influence.",
        "No weight is trimmed: the estimates stay those of R's survey package; weights beyond the threshold are counted to judge their influence.",
    ),
    "w_side_by_side": ("Estimations non pondérées et pondérées", "Unweighted and weighted estimates"),
    "w_unweighted": ("Non pondérée", "Unweighted"),
    "w_weighted": ("Pondérée", "Weighted"),
    "w_side_by_side_text": (
        "Non pondérée : chaque répondant compte pour un (sondage aléatoire simple). L’écart montre ce que la pondération corrige.",
        "Unweighted: each respondent counts once (simple random sample). The difference shows what weighting corrects.",
    ),
    "m_representativeness": ("Représentativité des réponses", "Representativeness of the response"),
    "rep_none": (
        "Aucune variable de la base clients ne permet de comparer répondants et non-répondants.",
        "No variable of the customer base allows comparing respondents with non-respondents.",
    ),
    "rep_r_text": (
        "Indicateur R (Schouten, Cobben et Bethlehem, 2009) : {r} (intervalle à {level} % : {low} à {high}), calculé sur {n} {n|client tiré|clients tirés} à partir de leurs probabilités de réponse estimées par {variables} ; coefficient de variation des probabilités : {cv}.",
        "R-indicator (Schouten, Cobben and Bethlehem, 2009): {r} ({level}% interval: {low} to {high}), computed over the {n} sampled {n|customer|customers} from their response propensities estimated from {variables}; coefficient of variation of the propensities: {cv}.",
    ),
    "rep_r_explain": (
        "R vaut 1 quand tous les clients ont la même probabilité de répondre, quels que soient ces caractères ; plus il est bas, plus la réponse en dépend. Le coefficient de variation borne le biais d’une moyenne non pondérée, en écarts-types de la variable mesurée.",
        "R is 1 when every customer is as likely to answer, whatever these characteristics; the lower it is, the more the response depends on them. The coefficient of variation bounds the bias of an unweighted mean, in standard deviations of the variable measured.",
    ),
    "rep_reading_under": (
        "Les clients « {level} » ({variable}) sont sous-représentés parmi les répondants : {rate} ont répondu, contre {overall} de l’ensemble.",
        "Customers '{level}' ({variable}) are under-represented among respondents: {rate} answered, against {overall} overall.",
    ),
    "rep_reading_over": (
        "Les clients « {level} » ({variable}) sont sur-représentés parmi les répondants : {rate} ont répondu, contre {overall} de l’ensemble.",
        "Customers '{level}' ({variable}) are over-represented among respondents: {rate} answered, against {overall} overall.",
    ),
    "rep_corrected": (
        "La pondération par {variable} le corrige.",
        "Weighting by {variable} corrects for it.",
    ),
    "rep_not_corrected": (
        "La pondération ne porte pas sur {variable} : l’écart n’est corrigé que s’il suit les strates.",
        "Weighting does not use {variable}: the gap is corrected only as far as it follows the strata.",
    ),
    "rep_reading_none": (
        "Aucun groupe de clients ne répond significativement moins ou plus que l’ensemble.",
        "No group of customers answers significantly less or more than the whole sample.",
    ),
    "rep_rates_caption": ("Taux de réponse par variable de la base", "Response rates by variable of the base"),
    "rep_variable": ("Variable", "Variable"),
    "rep_level": ("Modalité", "Level"),
    "rep_rate": ("Taux de réponse", "Response rate"),
    "rep_partial_u": ("R partiel inconditionnel", "Unconditional partial R"),
    "rep_partial_c": ("R partiel conditionnel", "Conditional partial R"),
    "rep_rates_text": (
        "Taux pondérés par les poids de tirage, intervalles logit ; indicateurs R partiels de Schouten, Shlomo et Skinner (2011) : l’inconditionnel est négatif pour une modalité qui répond moins que l’ensemble, le conditionnel mesure ce que la variable ajoute une fois les autres connues.",
        "Rates weighted by the design weights, logit intervals; partial R-indicators of Schouten, Shlomo and Skinner (2011): the unconditional one is negative for a level that answers less than the whole, the conditional one measures what the variable adds once the others are known.",
    ),
    "m_mode": ("Mode de collecte", "Data-collection mode"),
    "m_mode_text": (
        "Questionnaire auto-administré en ligne : chaque client tiré a reçu une invitation par {channels} contenant un lien personnel ; aucun enquêteur n’intervient.",
        "Self-completion questionnaire on the web: each sampled customer received an invitation by {channels} with a personal link; no interviewer takes part.",
    ),
    "channel_email": ("courriel", "email"),
    "channel_sms": ("SMS", "SMS"),
    "channels_and": (" et ", " and "),
    "m_partials": ("Réponses partielles", "Partial responses"),
    "m_commission": ("Commanditaire, réalisation et objectifs", "Commissioning, conduct and objectives"),
    "m_field_commissioned_by": ("Commanditaire", "Commissioned by"),
    "m_field_conducted_by": ("Réalisée par", "Conducted by"),
    "m_field_objectives": ("Objectifs", "Objectives"),
    "m_field_incentives": ("Incitations", "Incentives"),
    "m_field_subcontracting": ("Sous-traitance", "Subcontracting"),
    "m_validation": ("Contrôle et apurement des données", "Data validation and cleaning"),
    "m_limitations": ("Limites", "Limitations"),
    "m_default_commissioned_by": (
        "Le centre de relation client, pour le programme « {programme} ».",
        "The customer contact centre, for the programme “{programme}”.",
    ),
    "m_default_conducted_by": (
        "Le centre lui-même, avec la plateforme barometre (aucun institut d’études).",
        "The centre itself, with the barometre platform (no research agency).",
    ),
    "m_default_objectives": (
        "Mesurer la satisfaction des clients à l’égard du service et des engagements du centre, en suivre l’évolution d’une année sur l’autre et désigner les priorités d’amélioration.",
        "Measure customers’ satisfaction with the centre’s service and commitments, follow its change from year to year and point out the priorities for improvement.",
    ),
    "m_default_incentives": (
        "Aucune incitation (cadeau, tirage au sort, bon d’achat) n’a été offerte aux répondants.",
        "No incentive (gift, prize draw, voucher) was offered to respondents.",
    ),
    "m_default_subcontracting": (
        "Aucune partie de l’enquête n’a été sous-traitée ; seul l’envoi des e-mails et des SMS passe par les prestataires d’envoi configurés sur la plateforme.",
        "No part of the survey was subcontracted; only the sending of emails and text messages goes through the sending providers configured on the platform.",
    ),
    "m_default_validation": (
        "Les réponses sont contrôlées à la saisie (bornes des échelles, questions obligatoires, conditions d’affichage) ; la réponse à une question masquée par une condition est écartée ; seuls les questionnaires complets sont analysés ; les invitations de test sont exclues ; les commentaires libres sont masqués (adresses e-mail, numéros de téléphone) avant tout export. Aucune réponse n’est corrigée ni imputée.",
        "Answers are checked as they are entered (scale bounds, required questions, display conditions); the answer to a question hidden by a condition is dropped; only complete questionnaires are analysed; test invitations are left out; free comments are masked (email addresses, phone numbers) before any export. No answer is corrected or imputed.",
    ),
    "m_default_limitations": (
        "Auto-administration en ligne : seuls les clients dont la fiche porte une adresse e-mail ou un numéro de mobile peuvent être interrogés ; la non-réponse peut biaiser les résultats malgré la pondération (voir la représentativité) ; la mesure porte sur une période de l’année ; les écarts entre domaines sont des associations, non des causes.",
        "Self-completion on the web: only customers whose record holds an email address or a mobile number can be surveyed; non-response may bias the results despite the weighting (see the representativeness); the measure covers one period of the year; differences between domains are associations, not causes.",
    ),
    "m_partials_text_one": (
        "{count} client a commencé le questionnaire sans le terminer (réponse partielle). Il compte comme répondant partiel dans le taux de réponse RR2 (qui ajoute les partielles aux complètes, alors que RR1 ne retient que les complètes), mais ses réponses sont exclues des estimations : seuls les questionnaires complets sont analysés.",
        "{count} customer started the questionnaire without finishing it (a partial response). It counts as a partial respondent in the response rate RR2 (which adds partials to completes, whereas RR1 keeps completes only), but its answers are left out of the estimates: only complete questionnaires are analysed.",
    ),
    "m_partials_text": (
        "{count} clients ont commencé le questionnaire sans le terminer (réponses partielles). Ils comptent comme répondants partiels dans le taux de réponse RR2 (qui ajoute les partielles aux complètes, alors que RR1 ne retient que les complètes), mais leurs réponses sont exclues des estimations : seuls les questionnaires complets sont analysés.",
        "{count} customers started the questionnaire without finishing it (partial responses). They count as partial respondents in the response rate RR2 (which adds partials to completes, whereas RR1 keeps completes only), but their answers are left out of the estimates: only complete questionnaires are analysed.",
    ),
    "m_tests": ("Tests de significativité", "Significance tests"),
    "m_tests_text": (
        "D’une année à l’autre, les deux échantillons sont tirés indépendamment : la différence est testée par un test t de Welch, les degrés de liberté étant ceux de Welch–Satterthwaite, à partir des erreurs types de chaque année. Pour un domaine (par exemple un canal), l’estimation du domaine est comparée à celle du reste de l’échantillon par un contraste linéarisé qui tient compte du plan de sondage. Dans chaque famille de comparaisons (les indicateurs d’une année sur l’autre ; les niveaux d’une variable pour un indicateur), les valeurs p sont corrigées par la méthode de Holm : tester plusieurs différences à la fois multiplie les chances d’en déclarer une significative par hasard, et la correction de Holm maintient ce risque global au seuil de {alpha} % sans hypothèse sur la dépendance des tests, en étant moins conservatrice que celle de Bonferroni. Une valeur p inférieure à 0,001 est notée « < 0,001 ».",
        "Year on year, the two samples are drawn independently: the difference is tested with Welch's t test, with Welch–Satterthwaite degrees of freedom, from each year's standard errors. For a domain (a channel, for instance), the domain's estimate is compared with that of the rest of the sample by a linearised contrast that accounts for the sample design. Within each family of comparisons (the indicators year on year; the levels of one variable for one indicator), p-values are adjusted by Holm's method: testing several differences at once multiplies the chances of declaring one significant by chance, and Holm's correction holds that overall risk at {alpha}% without any assumption on how the tests depend on each other, while being less conservative than Bonferroni's. A p-value below 0.001 is written \"< 0.001\".",
    ),
    "m_deviations": ("Écarts au plan", "Deviations from the plan"),
    "m_deviations_caption": ("Répondants prévus et obtenus par strate", "Planned and achieved respondents per stratum"),
    "planned": ("Prévus", "Planned"),
    "achieved": ("Obtenus", "Achieved"),
    "gap": ("Écart", "Difference"),
    "m_deviations_none": ("La campagne n’a pas de plan de sondage par strate : pas d’écart à mesurer.", "The campaign has no sample plan with strata: no deviation to measure."),
    "m_fieldwork_dates": ("Terrain réalisé du {start} au {end}.", "Fieldwork ran from {start} to {end}."),
    "m_fieldwork_closed": ("La campagne a été close le {closed}.", "The campaign was closed on {closed}."),
    "m_comparability": ("Comparabilité avec {previous}", "Comparability with {previous}"),
    "m_comparability_intro": (
        "Entre {previous} ({year}) et cette campagne, ces changements limitent la comparaison des résultats :",
        "Between {previous} ({year}) and this campaign, these changes limit the comparison of results:",
    ),
    "m_comparability_none": (
        "La base de sondage garde la même taille, le terrain les mêmes dates et le questionnaire la même version que {previous} ({year}).",
        "The frame keeps the same size, the fieldwork the same dates and the questionnaire the same version as {previous} ({year}).",
    ),
    "change_frame_size_one": ("taille de la base de sondage : {before} client, puis {now}", "frame size: {before} customer, then {now}"),
    "change_frame_size": ("taille de la base de sondage : {before} clients, puis {now}", "frame size: {before} customers, then {now}"),
    "change_fieldwork": ("dates de terrain : du {before_start} au {before_end}, puis du {now_start} au {now_end}", "fieldwork dates: {before_start} to {before_end}, then {now_start} to {now_end}"),
    "change_questionnaire": ("questionnaire : version {before} (empreinte {before_sha}…), puis version {now} (empreinte {now_sha}…)", "questionnaire: version {before} (hash {before_sha}…), then version {now} (hash {now_sha}…)"),
    "m_estimation": ("Estimateurs et intervalles", "Estimators and intervals"),
    "m_estimation_text": (
        "Moyennes et proportions pondérées (estimateurs par le ratio de Horvitz-Thompson), variances par linéarisation de Taylor avec correction de population finie, intervalles de Student à {level} % (ddl = répondants − strates) ; proportions : intervalle {ci_method} ; NPS = % promoteurs (9–10) − % détracteurs (0–6) ; indice = moyenne pondérée des items ramenés sur 0–100. Les résultats reproduisent le package R survey (sauf, dans un domaine d’un plan calé, les bornes de l’intervalle bêta : R y compte toutes les lignes du plan, barometre les répondants du domaine). Les réponses « non concerné » et les questions non posées sont exclues des dénominateurs. Une base de moins de {small} {small|répondant|répondants} est signalée (⚠).",
        "Weighted means and proportions (Horvitz–Thompson ratio estimators), variances by Taylor linearisation with finite-population correction, Student intervals at {level}% (df = respondents − strata); proportions: {ci_method} interval; NPS = % promoters (9–10) − % detractors (0–6); index = weighted mean of the items rescaled to 0–100. Results reproduce R's survey package (except, in a domain of a calibrated design, the bounds of the beta interval: R counts every row of the design there, barometre the domain's respondents). 'Not applicable' answers and questions not asked are left out of denominators. A base below {small} {small|respondent|respondents} is flagged (⚠).",
    ),
    "ci_logit": ("logit", "logit"),
    "ci_beta": ("de Korn-Graubard (bêta)", "Korn–Graubard (beta)"),
    "ci_wald": ("de Wald", "Wald"),
    "m_no_respondents": (
        "{count|Strate|Strates} sans répondant : {strata}.",
        "{count|Stratum|Strata} without respondents: {strata}.",
    ),
    # results
    "question": ("Question", "Question"),
    "mean": ("Moyenne", "Mean"),
    "satisfied": ("Satisfaits", "Satisfied"),
    "not_applicable": ("Non concerné", "Not applicable"),
    "not_applicable_apart": (
        "« Non concerné » est montré à part : les pourcentages de l’échelle portent sur les réponses exprimées.",
        "'Not applicable' is shown apart: the scale percentages are of the substantive answers.",
    ),
    "distribution_title": ("Répartition des réponses (% des répondants)",
                           "Distribution of answers (% of respondents)"),
    "nps_distribution_title": (
        "Recommandation (0–10), répartition (% des répondants)",
        "Recommendation (0–10), distribution (% of respondents)",
    ),
    "share_percent": ("Part des répondants (%)", "Share of respondents (%)"),
    "table_of_chart": ("Tableau des valeurs du graphique", "Table of the chart's values"),
    "score": ("Note", "Score"),
    # domains
    "domains_intro": (
        "Chaque niveau est comparé à l’ensemble des autres répondants ; ▲ ou ▼ marque un écart significatif après correction de Holm sur les niveaux de la variable. ⚠ : base inférieure à {small} {small|répondant|répondants}, à lire avec prudence.",
        "Each level is compared with all other respondents; ▲ or ▼ marks a difference significant after Holm's correction over the variable's levels. ⚠: base below {small} {small|respondent|respondents}, read with care.",
    ),
    "domain_chart_title": ("{indicator} par {variable}", "{indicator} by {variable}"),
    "level": ("Niveau", "Level"),
    "var_stratum": ("strate", "stratum"),
    "var_invitation_channel": ("canal d’invitation", "invitation channel"),
    "var_channel": ("canal de contact", "contact channel"),
    "var_segment": ("segment", "segment"),
    "var_site": ("site", "site"),
    "var_language": ("langue", "language"),
    # trend
    "trend_title": ("Évolution des indicateurs clés", "Trend of the key indicators"),
    "year": ("Année", "Year"),
    "value": ("Valeur", "Value"),
    "trend_single": (
        "Première campagne du programme : la tendance commencera l’an prochain.",
        "First campaign of the programme: the trend starts next year.",
    ),
    "trend_breaks": (
        "Éléments non comparables avec {previous} (le questionnaire a changé) :",
        "Items not comparable with {previous} (the questionnaire changed):",
    ),
    "trend_removed": ("n’est plus posée", "no longer asked"),
    "trend_changed": ("modifiée :", "changed:"),
    "trend_field_type": ("type de question", "question type"),
    "trend_field_label": ("libellé", "wording"),
    "trend_field_show_if": ("condition d’affichage", "condition"),
    "trend_field_min": ("échelle", "scale"),
    "trend_field_max": ("échelle", "scale"),
    "trend_field_labels": ("libellés de l’échelle", "labels of the scale"),
    "trend_field_not_applicable": ("option « non concerné »", "“not applicable” option"),
    "trend_field_choices": ("réponses proposées", "choices"),
    "trend_field_channels": ("moyens de contact", "ways of contacting"),
    # drivers
    "drivers_title": ("Matrice importance–performance", "Importance–performance grid"),
    "importance_axis": (
        "Importance (corrélation avec la satisfaction globale)",
        "Importance (correlation with overall satisfaction)",
    ),
    "performance_axis": ("Performance (% de satisfaits)", "Performance (% satisfied)"),
    "importance": ("Importance", "Importance"),
    "performance": ("Performance", "Performance"),
    "quadrant": ("Lecture", "Reading"),
    "quadrant_priority to improve": ("priorité d’amélioration", "priority to improve"),
    "quadrant_strength to keep": ("force à préserver", "strength to keep"),
    "quadrant_secondary": ("secondaire", "secondary"),
    "quadrant_possible overkill": ("effort peut-être excessif", "possible overkill"),
    "drivers_reading": (
        "L’importance d’un item est sa corrélation pondérée avec la satisfaction globale (importance dérivée) ; sa performance est sa part de satisfaits. Les lignes pointillées sont les médianes des items. Les items importants mais peu performants sont les priorités d’amélioration : {priorities}.",
        "An item's importance is its weighted correlation with overall satisfaction (derived importance); its performance is its share of satisfied customers. Dashed lines are the items' medians. Important items that perform poorly are the priorities for improvement: {priorities}.",
    ),
    "none": ("aucun", "none"),
    "unavailable": ("Non calculable : {reason}", "Cannot be computed: {reason}"),
    # reliability
    "alpha_text": (
        "α de Cronbach = {alpha} (IC de Feldt à {level} % : {low} – {high}), sur {n} {n|répondant ayant|répondants ayant} répondu {k|à {k} item posé|aux {k} items posés} à tous. Au-delà de 0,7, les items mesurent de façon cohérente une même satisfaction.",
        "Cronbach's α = {alpha} (Feldt {level}% CI: {low} – {high}), on {n} {n|respondent|respondents} who answered the {k} {k|item|items} asked of everyone. Above 0.7, the items consistently measure one satisfaction.",
    ),
    "alpha_left_out": (
        "{count|Item posé sous condition, laissé|Items posés sous condition, laissés} hors du calcul : {items}.",
        "{count|Item|Items} asked under a condition, left out of the computation: {items}.",
    ),
    "alpha_if_deleted": ("α si l’item est retiré", "α if the item is removed"),
    "item": ("Item", "Item"),
    # follow-ups
    "follow_ups_intro": (
        "Demandes de rappel et alertes détracteurs (NPS 0–6 ou satisfaction globale dans les deux notes basses), traitées en boucle fermée (ISO 10004, suites données à la mesure de la satisfaction).",
        "Callback requests and detractor alerts (NPS 0–6 or overall score in the bottom two), handled in a closed loop (ISO 10004, acting on the measurement of satisfaction).",
    ),
    "kind": ("Type", "Kind"),
    "nps_detractors": ("Détracteurs (0–6)", "Detractors (0–6)"),
    "nps_passives": ("Passifs (7–8)", "Passives (7–8)"),
    "nps_promoters": ("Promoteurs (9–10)", "Promoters (9–10)"),
    "kind_callback": ("Demandes de rappel", "Callback requests"),
    "kind_detractor": ("Alertes détracteurs", "Detractor alerts"),
    "total": ("Total", "Total"),
    "closed": ("Traitées", "Handled"),
    "open": ("En cours", "Open"),
    "median_delay": ("Délai médian (heures)", "Median time (hours)"),
    "p90_delay": ("9e décile du délai (heures)", "90th percentile time (hours)"),
    "on_time": ("Traitées dans le délai", "Handled by the due date"),
    "kind_all": ("Ensemble", "All"),
    "overdue": ("En retard", "Overdue"),
    "on_time_share": ("Part traitée dans le délai", "Share handled on time"),
    "median_contact": ("Délai médian du premier contact (heures)", "Median time to first contact (hours)"),
    "loop_caption": ("Suivis par type", "Follow-ups by kind"),
    "loop_summary": (
        "{total} {total|suivi|suivis}, dont {closed} clos ; {share} traités dans le délai de service parmi {judged} {judged|suivi arrivé|suivis arrivés} à échéance ou clos ; premier contact en {contact} {contact|heure|heures} (médiane).",
        "{total} {total|follow-up|follow-ups}, {closed} closed; {share} handled within the service level among the {judged} closed or past their due date; first contact within {contact} {contact|hour|hours} (median).",
    ),
    "outcomes_caption": ("Issue des suivis clos", "Outcome of the closed follow-ups"),
    "outcome": ("Issue", "Outcome"),
    "outcome_resolved": ("Client joint, problème résolu", "Reached and resolved"),
    "outcome_not_resolved": ("Client joint, non résolu", "Reached, not resolved"),
    "outcome_complaint": ("Réclamation ouverte", "Complaint opened"),
    "outcome_unreachable": ("Injoignable", "Not reachable"),
    "outcome_declined": ("Le client a décliné", "Customer declined"),
    # verbatims
    "verbatims_intro": (
        "{total} {total|commentaire libre|commentaires libres}. Adresses e-mail et numéros de téléphone masqués. Classés de la note globale la plus basse à la plus haute.",
        "{total} free {total|comment|comments}. Email addresses and phone numbers masked. Sorted from the lowest overall score to the highest.",
    ),
    "verbatims_sampled": (
        "{shown} {shown|commentaire tiré|commentaires tirés} au hasard (graine {seed}) {shown|est reproduit|sont reproduits} ; l’export contient tous les commentaires.",
        "{shown} {shown|comment|comments} drawn at random (seed {seed}) {shown|is|are} printed; the export holds every comment.",
    ),
    "comment": ("Commentaire", "Comment"),
    # annex
    "a_questionnaire": ("Questionnaire figé", "Frozen questionnaire"),
    "a_questionnaire_text": (
        "{key}, version {version}, SHA-256 de sa copie canonique : {sha}.",
        "{key}, version {version}, SHA-256 of its canonical copy: {sha}.",
    ),
    "a_dictionary": ("Dictionnaire des données", "Data dictionary"),
    "column": ("Colonne", "Column"),
    "label": ("Libellé", "Label"),
    "type": ("Type", "Type"),
    # The data dictionary's question types, in words.
    "qtype_rating": ("Échelle de satisfaction", "Rating scale"),
    "qtype_nps": ("Recommandation (0 à 10)", "Recommendation (0 to 10)"),
    "qtype_single_choice": ("Choix unique", "Single choice"),
    "qtype_multiple_choice": ("Choix multiple", "Multiple choice"),
    "qtype_yes_no": ("Oui / non", "Yes / no"),
    "qtype_text": ("Texte libre", "Free text"),
    "qtype_callback": ("Demande de rappel", "Callback request"),
    "values": ("Valeurs", "Values"),
    "a_reproduce": ("Reproduire les résultats", "Reproducing the results"),
    "a_reproduce_text": (
        "Les données exportées (SHA-256 {sha}) et le fichier de plan qui les accompagne reproduisent chaque nombre de ce rapport :",
        "The exported data (SHA-256 {sha}) and the design file beside them reproduce every number of this report:",
    ),
    "a_export_command": ("Export des données :", "Exporting the data:"),
    "a_software": ("Logiciel : barometre {version}.", "Software: barometre {version}."),
    "a_design": ("Fichier de plan (DESIGN.json)", "Design file (DESIGN.json)"),
    "a_audit": ("Piste d’audit", "Audit trail"),
    "a_audit_text": (
        "Au moment de ce rapport, la piste d’audit compte {count} {count|événement scellé|événements scellés} ; sa tête "
        "(dernière empreinte) est {hash}. Cette commande vérifie que la piste l’atteint toujours, "
        "sans suppression ni reconstruction :",
        "When this report was made, the audit trail held {count} sealed {count|event|events}; its head (last "
        "hash) is {hash}. This command checks that the trail still reaches it, with nothing "
        "deleted or rebuilt:",
    ),
    "a_weighting": ("Pondération et représentativité en détail", "Weighting and representativeness in detail"),
    "a_weights_by_stratum": ("Poids finaux par strate", "Final weights per stratum"),
    "a_margins": (
        "Marges de calage (convergence en {iterations} {iterations|itération|itérations})",
        "Calibration margins (converged in {iterations} {iterations|iteration|iterations})",
    ),
    "a_base_total": ("Total des poids de base", "Total of the base weights"),
    "a_calibrated_total": ("Total des poids calés", "Total of the calibrated weights"),
    "a_r_model": (
        "Probabilités de réponse : régression logistique pondérée par les poids de tirage (effets principaux), moyenne {mean}, écart-type {sd} ; erreur type de R par bootstrap stratifié ({replicates} {replicates|réplication|réplications}, graine {seed}). Le fichier d’échantillon (un client tiré par ligne : strate, réponse, variables de la base, sans donnée personnelle) reproduit ces nombres :",
        "Response propensities: logistic regression weighted by the design weights (main effects), mean {mean}, standard deviation {sd}; standard error of R by stratified bootstrap ({replicates} {replicates|replicate|replicates}, seed {seed}). The sample file (one sampled customer per row: stratum, response, variables of the base, no personal data) reproduces these numbers:",
    ),
    "a_weighting_reproduce": (
        "La sortie de barometre analyze contient, sous « weighting », les poids par strate, les marges de calage et leur convergence ; les estimations non pondérées s’obtiennent avec un fichier de plan réduit à « indicators ».",
        "The output of barometre analyze holds, under 'weighting', the weights per stratum, the calibration margins and their convergence; the unweighted estimates come from a design file holding only 'indicators'.",
    ),
    "small_base_flag": ("base faible", "small base"),
    "withheld_flag": ("moins de 10 répondants : non publié", "under 10 respondents: withheld"),
}


def method_default(field: str, lang: str, programme: str) -> str:
    """What the report says of a programme's method `field` left blank
    (`survey.programmes.operations.METHOD_FIELDS`)."""
    return translator(lang)(f"m_default_{field}", programme=programme)


def singular(number: float, lang: str) -> bool:
    """Whether `number` takes the singular in `lang`: 0 and 1 in French ("0 client a
    répondu"), 1 alone in English."""
    return abs(number) < 2 if lang == "fr" else number == 1


#: A plural choice in a text: ``{name|singular|plural}`` takes the form the number given as
#: `name` calls for in the text's language (`singular`): "{n} {n|client|clients}". A form may
#: hold placeholders: "{k|à {k} item|aux {k} items}".
PLURAL = re.compile(r"\{(\w+)\|((?:[^{}|]|\{\w+\})*)\|((?:[^{}|]|\{\w+\})*)\}")


def count_of(value: object, lang: str) -> float | None:
    """The number a value stands for: a number, or a number as the report writes it in
    `lang` ("1 234,5" in French, "1,234.5" in English); None for anything else ("–")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = re.sub(r"[\s\u00a0\u202f]", "", value)
    text = text.replace(",", ".") if lang == "fr" else text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def translator(lang: str) -> Callable[..., str]:
    """`t(key, **values)`: the text in `lang`, with `{placeholders}` filled in.

    Every count takes its plural form: a text's ``{name|singular|plural}`` is replaced by the
    form that the value `name` (a number, or a number as the report writes it) calls for, so
    that "1 client a répondu", "0 client" and "2 clients" read right in French, "1 customer",
    "0 customers" in English. With `number`, the text of ``key + "_one"`` is used when that
    number takes the singular (`singular`)."""
    if lang not in LANGUAGES:
        raise ValueError(f"the report is written in French or English, not {lang!r}")
    column = LANGUAGES.index(lang)

    def form(match: re.Match[str], values: dict[str, object]) -> str:
        name, one, other = match.groups()
        if name not in values:
            raise KeyError(f"{name} (the count of a plural in the report's text)")
        count = count_of(values[name], lang)
        return one if count is not None and singular(count, lang) else other

    def t(key: str, /, number: float | None = None, **values: object) -> str:
        if number is not None and singular(number, lang) and f"{key}_one" in TEXTS:
            key = f"{key}_one"
        text = TEXTS[key][column] if key in TEXTS else key
        if "|" in text:
            text = PLURAL.sub(lambda match: form(match, values), text)
        return text.format(**values) if values else text

    return t
