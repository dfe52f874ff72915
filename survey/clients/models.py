"""The client company and which staff may work for it (defined with the rest of the domain
model in `survey.models`, which every table's metadata and migration read)."""

from survey.models import Client, UserClient

__all__ = ["Client", "UserClient"]
