"""Administration pages: user accounts (admins) and the audit trail (every reader)."""
