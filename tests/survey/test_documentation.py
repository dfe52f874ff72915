"""The documentation agrees with the program: a newcomer has only the clone to read.

Every command and option of `barometre --help`, every environment variable the code reads and
every `make` target is documented, in the README and in `docs/`; nothing documented is gone
from the program; every relative link of the README and of `docs/` leads to a file.

When a test here fails, its message says what is missing and where to add it: adding a command,
an option or a setting means documenting it in the same change.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from survey.cli import main as barometre

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
COMMAND_LINE_DOC = DOCS / "command-line.md"
CONFIGURATION_DOC = DOCS / "configuration.md"
SOURCE_PACKAGES = ("survey", "questionnaires", "analysis")

# The environment variables of the program: `BAROMETRE_*`, and the providers' own names.
_SETTING = re.compile(r"(?:BAROMETRE|SENDGRID|TWILIO)_[A-Z0-9_]*[A-Z0-9]")


@dataclass(frozen=True)
class Command:
    path: str  # "customers import"
    options: tuple[str, ...]  # long names: "--dry-run", ...


def _commands(group: click.Group, prefix: str = "") -> list[Command]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += _commands(command, f"{path} ")
            continue
        options = []
        for parameter in command.params:
            if isinstance(parameter, click.Option) and not parameter.hidden:
                options += [o for o in (*parameter.opts, *parameter.secondary_opts)
                            if o.startswith("--") and o != "--help"]
        found.append(Command(path, tuple(options)))
    return found


COMMANDS = _commands(barometre)
COMMAND_PATHS = {command.path for command in COMMANDS}


def _mentions(text: str, word: str) -> bool:
    """`word` appears in `text` as a whole (`--out` is not found in `--outbox`)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _command_of(words: str) -> str | None:
    """The longest command path that `words` (what follows `barometre `) starts with."""
    tokens = words.split()
    for length in range(len(tokens), 0, -1):
        candidate = " ".join(tokens[:length])
        if candidate in COMMAND_PATHS:
            return candidate
    return None


def _sections(text: str, level: str) -> dict[str, str]:
    """Heading → body, for the headings of `level` ("##", "###"); a body ends at the next
    heading of that level or above."""
    sections: dict[str, str] = {}
    pattern = re.compile(rf"^{level} (.+)$", re.MULTILINE)
    matches = list(pattern.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end():end]
        above = len(level) - 1
        stop = re.search(rf"^#{{1,{above}}} ", body, re.MULTILINE) if above else None
        sections[match.group(1).strip()] = body[: stop.start()] if stop else body
    return sections


# --- the command line -----------------------------------------------------------------------


def _command_line_doc_sections() -> dict[str, str]:
    """Command path → its section (heading included) in docs/command-line.md."""
    found: dict[str, str] = {}
    for heading, body in _sections(COMMAND_LINE_DOC.read_text(encoding="utf-8"), "###").items():
        match = re.fullmatch(r"`barometre ([^`]*)`", heading)
        if match is None:
            continue
        path = _command_of(match.group(1)) or match.group(1)
        found[path] = f"{heading}\n{body}"
    return found


def test_every_command_has_its_section_in_the_command_line_doc() -> None:
    sections = _command_line_doc_sections()
    missing = sorted(COMMAND_PATHS - sections.keys())
    assert not missing, (
        "docs/command-line.md has no section for: "
        + ", ".join(f"`barometre {path}`" for path in missing)
        + ". Add under the right '## ' part a heading `### `barometre <command> <arguments> "
        "[options]`` followed by what the command does and one line per option."
    )


def test_every_option_is_documented_in_its_command_section() -> None:
    sections = _command_line_doc_sections()
    missing = [
        f"{option} (section `barometre {command.path}`)"
        for command in COMMANDS if command.path in sections
        for option in command.options if not _mentions(sections[command.path], option)
    ]
    assert not missing, (
        "docs/command-line.md does not document these options in their command's section: "
        + "; ".join(missing) + ". Add a line `- `--option`: what it does (default …)` there."
    )


def test_the_command_line_doc_documents_no_command_that_does_not_exist() -> None:
    unknown = sorted(set(_command_line_doc_sections()) - COMMAND_PATHS)
    assert not unknown, (
        "docs/command-line.md documents commands that `barometre --help` does not have: "
        + ", ".join(unknown) + ". Remove their sections, or fix the heading's command name."
    )


def _readme_command_entries() -> dict[str, str]:
    """Command path → its entry in the README's '## Command line' code block: a line starting
    with `barometre `, and the indented lines that continue it."""
    section = _sections(README.read_text(encoding="utf-8"), "##").get("Command line", "")
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.DOTALL)
    entries: dict[str, str] = {}
    current: str | None = None
    for line in (block.group(1) if block else "").splitlines():
        if line.startswith("barometre "):
            current = _command_of(line[len("barometre "):]) or line
            entries[current] = entries.get(current, "") + line + "\n"
        elif line.startswith((" ", "\t")) and current is not None:
            entries[current] += line + "\n"
        else:
            current = None
    return entries


def test_the_readme_lists_every_command_with_all_its_options() -> None:
    entries = _readme_command_entries()
    assert entries, "README.md has no '## Command line' section with a ``` block of commands"
    problems = [f"`barometre {path}` is not listed"
                for path in sorted(COMMAND_PATHS - entries.keys())]
    problems += [
        f"`barometre {command.path}` lacks {option}"
        for command in COMMANDS if command.path in entries
        for option in command.options if not _mentions(entries[command.path], option)
    ]
    problems += [f"`{path}` is listed but is no command of `barometre --help`"
                 for path in sorted(entries.keys() - COMMAND_PATHS)]
    assert not problems, (
        "README.md, '## Command line' block (one line per command starting with `barometre `, "
        "continued on indented lines, every option in it): " + "; ".join(problems) + "."
    )


def test_the_readme_gives_the_demo_size_the_demo_seeds() -> None:
    from survey.demo import DEMO_CUSTOMERS

    size = f"{DEMO_CUSTOMERS:,}"
    text = README.read_text(encoding="utf-8")
    stated = set(re.findall(r"([\d,]+) customers", text))
    assert size in stated, f"README.md should say the demo seeds {size} customers"
    demo_sentences = re.findall(r"[^.]*seed_demo[^.]*\.|[^.]*demo seeds[^.]*\.", text)
    wrong = [s.strip() for s in demo_sentences
             if re.search(r"[\d,]{4,} customers", s) and size not in s]
    assert not wrong, f"README.md gives another size for the demo than {size}: {wrong}"


# --- the configuration ----------------------------------------------------------------------


def _settings_read_by_the_code() -> tuple[dict[str, str], list[str]]:
    """Every environment variable named in the source → the first file that names it.

    A setting is a string constant `BAROMETRE_…` (or a provider's `SENDGRID_…`, `TWILIO_…`).
    A provider-like name that is only a Flask configuration key mirroring a `BAROMETRE_` one
    (`SENDGRID_HOST` for `BAROMETRE_SENDGRID_HOST`) is not a setting of its own.
    """
    names: dict[str, str] = {}
    computed: list[str] = []
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            where = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and _SETTING.fullmatch(node.value):
                    names.setdefault(node.value, where)
                elif isinstance(node, ast.JoinedStr) and len(node.values) > 1 \
                        and isinstance(node.values[0], ast.Constant) \
                        and re.fullmatch(r"(?:BAROMETRE|SENDGRID|TWILIO)_[A-Z0-9_]*",
                                         str(node.values[0].value)):
                    computed.append(f"{where}:{node.lineno}")
    settings = {
        name: where for name, where in names.items()
        if name.startswith("BAROMETRE_") or f"BAROMETRE_{name}" not in names
    }
    return settings, computed


SETTINGS, COMPUTED_SETTINGS = _settings_read_by_the_code()


def test_every_setting_is_named_in_full_in_the_code() -> None:
    assert not COMPUTED_SETTINGS, (
        "environment variables read under a computed name (f\"BAROMETRE_{…}\") cannot be checked "
        "against the documentation; write each name in full: " + ", ".join(COMPUTED_SETTINGS)
    )


@pytest.mark.parametrize(("document", "where"), [
    (CONFIGURATION_DOC, "a row `| `NAME` | default | what it does |` in the right table"),
    (README, "a row `| `NAME` | default |` in the '## Configuration' table"),
])
def test_every_setting_is_documented(document: Path, where: str) -> None:
    text = document.read_text(encoding="utf-8")
    if document == README:
        text = _sections(text, "##").get("Configuration", "")
    missing = sorted(name for name in SETTINGS if not _mentions(text, name))
    assert not missing, (
        f"{document.relative_to(ROOT)} does not document: "
        + ", ".join(f"{name} (read in {SETTINGS[name]})" for name in missing)
        + f". Add {where}, with the full name."
    )


def test_the_configuration_doc_documents_no_setting_the_code_does_not_read() -> None:
    text = CONFIGURATION_DOC.read_text(encoding="utf-8")
    tests_only = _sections(text, "##").get("Tests and tools only", "")
    documented = {match.group(1)
                  for match in re.finditer(r"^\| `([A-Z0-9_]+)`", text, re.MULTILINE)}
    for_tests = set(re.findall(r"`([A-Z0-9_]+)`", tests_only))
    stale = sorted(documented - SETTINGS.keys() - for_tests)
    assert not stale, (
        "docs/configuration.md documents variables that no code of "
        f"{', '.join(SOURCE_PACKAGES)} reads: {', '.join(stale)}. Remove their rows, or move "
        "them to '## Tests and tools only' if only the tests or tools read them."
    )


# --- make, links ----------------------------------------------------------------------------


def _make_targets() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    return sorted(set(phony.group(1).split())) if phony else []


def test_every_make_target_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [t for t in _make_targets() if not re.search(rf"make {re.escape(t)}\b", text)]
    assert not missing, (
        "README.md never mentions: " + ", ".join(f"`make {t}`" for t in missing)
        + ". Say what each does (the '## Set-up' or '## Tests' part)."
    )


def _documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_the_readme_and_docs_link_only_to_files_of_the_clone() -> None:
    broken = []
    for document in _documents():
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an address on the web
            if not (document.parent / target).exists():
                broken.append(f"{document.relative_to(ROOT)} → {target}")
        if re.search(r"shared folder|\.\./shared|DESIGN\.md", text):
            broken.append(f"{document.relative_to(ROOT)} sends readers outside the clone "
                          "(DESIGN.md, the shared folder): point to docs/ instead")
    assert not broken, "links that a clone cannot follow: " + "; ".join(broken)


def test_the_readme_links_every_document_of_docs() -> None:
    text = README.read_text(encoding="utf-8") + (DOCS / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in sorted(DOCS.glob("*.md"))
               if p.name != "README.md" and p.name not in text]
    assert not missing, (
        "docs/ holds documents that neither README.md nor docs/README.md links: "
        + ", ".join(missing) + ". Add a row for each to the table of docs/README.md."
    )
