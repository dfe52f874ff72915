"""The improvement plan: actions decided from a campaign's results (ISO 10004 §8, the mark's
"démarche d'amélioration continue"), their history, and their follow-up in the next campaign's
report, the auditor's pack and the published results."""
