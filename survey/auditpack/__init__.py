"""The auditor's pack: one zip with everything a documentary control of a campaign checks (the
report, the export and its design, the questionnaire, the plan and the draw, the follow-ups, the
audit trail, and each feature's registered section), with a manifest of every file's SHA-256;
and its verification (docs/audit-trail.md).
"""
