"""The `barometre` command line (docs/command-line.md), assembled.

Each feature package owns its commands beside its views, in a `commands.py` whose `COMMANDS` are
registered here; this module only assembles them.
"""

from __future__ import annotations

import importlib

import click

# Each feature's commands: a module with `COMMANDS`, registered in this order.
COMMAND_MODULES = (
    "survey.main.commands",
    "survey.auth.commands",
    "survey.clients.commands",
    "survey.editor.commands",
    "survey.frame.commands",
    "survey.campaigns.commands",
    "survey.distribution.commands",
    "survey.reporting.commands",
    "survey.followups.commands",
    "survey.publication.commands",
    "survey.admin.commands",
    "survey.privacy.commands",
    "survey.worker.commands",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="barometre")
def main() -> None:
    """barometre: the annual customer-satisfaction survey of a customer-contact centre."""


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        main.add_command(_command)
