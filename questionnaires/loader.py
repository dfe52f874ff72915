"""Loading, checking and freezing questionnaire definitions.

``validate_file`` reports every problem of a definition, not only the first, each as a
:class:`DefinitionError` whose ``path`` points into the definition with 0-based indices, e.g.
``pages[1].questions[3].show_if`` is the ``show_if`` of the fourth question of the second page.
Errors about the file itself (not found, not UTF-8) have an empty path; YAML syntax errors have
``line L, column C`` as their path. ``line`` holds the 1-based line number when known.

A campaign freezes the definition it uses: ``canonical_json`` is a byte-exact serialisation
(sorted keys, no insignificant whitespace, fields left at their default omitted so that adding an
optional field to the schema does not change existing hashes) and ``definition_sha256`` its hash.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from questionnaires.conditions import ConditionError, parse_condition
from questionnaires.localized import SUPPORTED_LANGUAGES
from questionnaires.problems import Problem, joined
from questionnaires.questions import CODE_PATTERN, QUESTION_TYPES, RatingQuestion
from questionnaires.schema import Questionnaire

__all__ = [
    "BundledDefinition",
    "DefinitionError",
    "DefinitionInvalid",
    "UnknownQuestionnaire",
    "canonical_json",
    "check_definition",
    "definition_data",
    "definition_sha256",
    "definition_yaml",
    "get_bundled",
    "list_bundled",
    "load_canonical_json",
    "load_definition",
    "read_yaml",
    "validate_file",
]

DEFINITIONS_DIR = Path(__file__).parent / "definitions"


@dataclass(frozen=True)
class DefinitionError:
    """One problem in a definition, printable as ``FILE: PATH: MESSAGE`` (English, for the
    command line). ``reason`` is its stable code and ``params`` the values it names, so that a
    page words it in its reader's language (see :mod:`questionnaires.problems`)."""

    file: str
    path: str
    message: str
    line: int | None = None
    reason: str = "invalid"
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        if not self.path:
            return f"{self.file}: {self.message}"
        return f"{self.file}: {self.path}: {self.message}"


class DefinitionInvalid(ValueError):
    """A definition that cannot be loaded; ``errors`` lists every problem found."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        count = f"{len(errors)} error{'s' if len(errors) > 1 else ''}"
        super().__init__(
            f"invalid questionnaire definition ({count}):\n" + "\n".join(map(str, errors))
        )


class UnknownQuestionnaire(KeyError):
    """No bundled definition has the requested key."""

    def __str__(self) -> str:  # KeyError would show the message with quotes around it
        return str(self.args[0])


# ---------------------------------------------------------------------------------------------
# Public API


def load_definition(path_or_text: str | os.PathLike[str] | bytes) -> Questionnaire:
    """Load and check a definition, from a file or from YAML text.

    A ``Path`` (or any path-like) is a file, as is a one-line ``str`` ending in ``.yaml``,
    ``.yml`` or ``.json``; any other ``str`` or ``bytes`` is the definition itself.
    Raises :class:`DefinitionInvalid` listing every problem.
    """
    if isinstance(path_or_text, os.PathLike) or _looks_like_path(path_or_text):
        path = Path(os.fsdecode(path_or_text))  # type: ignore[arg-type]
        questionnaire, errors = _check_file(path)
    else:
        questionnaire, errors = _check_source(path_or_text, "<definition>")
    if questionnaire is None:
        raise DefinitionInvalid(errors)
    return questionnaire


def validate_file(path: str | os.PathLike[str]) -> list[DefinitionError]:
    """Every problem in the definition at ``path``; an empty list when it is valid."""
    return _check_file(Path(path))[1]


def check_definition(
    data: Any, source: str = "<definition>"
) -> tuple[Questionnaire | None, list[DefinitionError]]:
    """Check a definition already read into Python data (an editor's draft): the questionnaire,
    or None and every problem, with the same paths and messages as :func:`validate_file`."""
    return _check_data(data, source, None)


# The order a person reads a question in; the type's own fields follow, then the options.
_QUESTION_KEY_ORDER = ("code", "type", "label", "chart_label", "help", "required", "show_if")
_DEFINITION_KEY_ORDER = ("id", "version", "languages", "title", "introduction", "thank_you")


def definition_data(questionnaire: Questionnaire) -> dict[str, Any]:
    """The definition as plain data (what a YAML file holds): fields at their default omitted,
    keys in reading order. Loading it again gives the same :func:`definition_sha256`."""
    data = questionnaire.model_dump(mode="python", exclude_defaults=True)
    for page in data["pages"]:
        page["questions"] = [
            _ordered(question, _QUESTION_KEY_ORDER) for question in page["questions"]
        ]
    return _ordered(data, _DEFINITION_KEY_ORDER)


def definition_yaml(data: Any) -> str:
    """YAML text of a definition's data (``definition_data``, or a draft's data), readable and
    loadable by :func:`load_definition`."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _ordered(mapping: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    ordered = {key: mapping[key] for key in first if key in mapping}
    ordered.update((key, value) for key, value in mapping.items() if key not in ordered)
    return ordered


def canonical_json(questionnaire: Questionnaire) -> bytes:
    """The definition as canonical JSON (UTF-8, sorted keys, compact): the same bytes on every
    machine for the same definition, whatever the order or layout of its YAML source."""
    data = questionnaire.model_dump(mode="json", exclude_defaults=True)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def definition_sha256(questionnaire: Questionnaire) -> str:
    """Hex SHA-256 of :func:`canonical_json`, recorded with a frozen QuestionnaireVersion."""
    return hashlib.sha256(canonical_json(questionnaire)).hexdigest()


def load_canonical_json(data: bytes | str) -> Questionnaire:
    """Load a frozen copy made by :func:`canonical_json` (checked like any definition)."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise DefinitionInvalid(
            [DefinitionError("<frozen copy>", "", f"not JSON: {error}", reason="not_json")]
        ) from None
    questionnaire, errors = _check_data(raw, "<frozen copy>", None)
    if questionnaire is None:
        raise DefinitionInvalid(errors)
    return questionnaire


@dataclass(frozen=True)
class BundledDefinition:
    key: str
    version: str
    title: str  # in the definition's first language
    path: Path
    languages: tuple[str, ...]


def list_bundled() -> list[BundledDefinition]:
    """The definitions shipped with barometre, by key."""
    return [
        BundledDefinition(
            key=questionnaire.id,
            version=questionnaire.version,
            title=questionnaire.text("title", questionnaire.languages[0]),
            path=path,
            languages=tuple(questionnaire.languages),
        )
        for path, questionnaire in _bundled().items()
    ]


def get_bundled(key: str) -> Questionnaire:
    """The bundled definition ``key``; raises :class:`UnknownQuestionnaire` naming the known
    keys."""
    for questionnaire in _bundled().values():
        if questionnaire.id == key:
            return questionnaire
    known = ", ".join(sorted(q.id for q in _bundled().values())) or "none"
    raise UnknownQuestionnaire(f"no bundled questionnaire '{key}' (known: {known})")


@functools.cache
def _bundled() -> dict[Path, Questionnaire]:
    # Bundled files are package data: they cannot change while the process runs.
    found = {}
    for path in sorted(DEFINITIONS_DIR.glob("*.yaml")):
        questionnaire = load_definition(path)
        if questionnaire.id != path.stem:
            raise DefinitionInvalid(
                [DefinitionError(str(path), "id", f"must be the file name '{path.stem}'",
                                 reason="id_not_file_name", params={"name": path.stem})]
            )
        found[path] = questionnaire
    return found


# ---------------------------------------------------------------------------------------------
# Reading files and YAML


def _looks_like_path(value: object) -> bool:
    return (
        isinstance(value, str) and "\n" not in value and value.endswith((".yaml", ".yml", ".json"))
    )


def _check_file(path: Path) -> tuple[Questionnaire | None, list[DefinitionError]]:
    file = str(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None, [DefinitionError(file, "", "file not found", reason="file_not_found")]
    except IsADirectoryError:
        return None, [DefinitionError(file, "", "is a directory, not a definition file",
                                      reason="file_is_directory")]
    except OSError as error:
        return None, [DefinitionError(file, "", f"cannot be read: {error.strerror}",
                                      reason="file_unreadable")]
    return _check_source(content, file)


def read_yaml(source: str | bytes, file: str = "<definition>") -> tuple[Any, list[DefinitionError]]:
    """A definition's YAML read into Python data, unchecked (an editor saves a draft with
    errors), or None and the reason it cannot be read (encoding, YAML syntax, with the line)."""
    if isinstance(source, bytes):
        try:
            # utf-8-sig: editors on Windows may start the file with a byte-order mark.
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = source[: error.start].count(b"\n") + 1
            message = (
                f"not UTF-8 text: byte 0x{source[error.start]:02x} on line {line} cannot be "
                "decoded; save the file as UTF-8"
            )
            return None, [DefinitionError(file, "", message, line, reason="not_utf8",
                                          params={"line": line})]
    raw, root, errors = _parse_yaml(source, file)
    return raw, errors


def _check_source(
    source: str | bytes, file: str
) -> tuple[Questionnaire | None, list[DefinitionError]]:
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, read_yaml(source, file)[1]
    raw, root, errors = _parse_yaml(source, file)
    if errors:
        return None, errors
    return _check_data(raw, file, root)


def _parse_yaml(source: str, file: str) -> tuple[Any, yaml.Node | None, list[DefinitionError]]:
    loader = _DefinitionLoader(source)
    try:
        root = loader.get_single_node()
        raw = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as error:
        return None, None, [_yaml_error(file, error)]
    except yaml.YAMLError as error:
        return None, None, [DefinitionError(file, "", f"YAML error: {error}",
                                            reason="yaml_error")]
    finally:
        loader.dispose()
    return raw, root, []


class _DefinitionLoader(yaml.SafeLoader):
    """YAML without its surprises: duplicated keys are errors, and only true/false are
    booleans (YAML 1.1 would read ``no``, ``yes``, ``on`` and ``off`` as booleans too)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_lines: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable) or key == "<<":
                continue
            if key in first_lines:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicated key {key!r} (first on line {first_lines[key]})",
                    key_node.start_mark,
                )
            first_lines[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_DefinitionLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_DefinitionLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _yaml_error(file: str, error: yaml.MarkedYAMLError) -> DefinitionError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    if error.context:
        problem = f"{problem} ({error.context})"
    if mark is None:
        return DefinitionError(file, "", f"YAML syntax error: {problem}", reason="yaml_error")
    line = mark.line + 1
    return DefinitionError(
        file, f"line {line}, column {mark.column + 1}", f"YAML syntax error: {problem}", line,
        reason="yaml_syntax", params={"line": line, "column": mark.column + 1},
    )


def _line_of(root: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """The source line of the deepest node of ``location`` found in the YAML tree."""
    node = root
    line = None
    for step in location:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next(
                (value for key, value in node.value if getattr(key, "value", None) == str(step)),
                None,
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step] if 0 <= step < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


# ---------------------------------------------------------------------------------------------
# Checking


def _check_data(
    raw: Any, file: str, root: yaml.Node | None
) -> tuple[Questionnaire | None, list[DefinitionError]]:
    if not isinstance(raw, dict):
        found = "an empty file" if raw is None else f"a {type(raw).__name__}"
        message = f"a definition is a mapping (id, version, languages, title, pages…), not {found}"
        return None, [DefinitionError(file, "", message, 1 if root is not None else None,
                                      reason="empty_definition" if raw is None
                                      else "not_a_mapping")]

    problems: list[_Found] = []
    questionnaire = None
    try:
        questionnaire = Questionnaire.model_validate(
            raw, context={"languages": _declared_languages(raw)}
        )
    except ValidationError as error:
        problems.extend(_from_pydantic(error))
    problems.extend(_condition_reference_problems(raw))
    if questionnaire is not None:
        problems.extend(_cross_question_problems(questionnaire))

    errors = [
        DefinitionError(file, _format_path(found.location), found.message,
                        _line_of(root, found.location), found.reason, found.params)
        for found in problems
    ]
    if errors:
        return None, sorted(errors, key=lambda error: (error.line or 0, error.path))
    return questionnaire, []


def _declared_languages(raw: dict[str, Any]) -> list[str] | None:
    languages = raw.get("languages")
    if not isinstance(languages, list):
        return None
    # Unsupported languages are reported on `languages` itself, not on every text.
    return [lang for lang in languages if lang in SUPPORTED_LANGUAGES] or None


def _format_path(location: tuple[Any, ...]) -> str:
    path = ""
    for step in location:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path += f".{step}" if path else str(step)
    return path


@dataclass(frozen=True)
class _Found:
    """A problem found while checking: where, the English message, its reason and values."""

    location: tuple[Any, ...]
    message: str
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


# Pattern -> (the English hint, the reason naming it).
_PATTERN_HINTS = {
    CODE_PATTERN: ("lower-case letters, digits and '_', starting with a letter", "bad_code"),
    r"^[a-z0-9][a-z0-9_]*$": ("lower-case letters, digits and '_'", "bad_value_name"),
    r"^[a-z0-9][a-z0-9-]*$": ("lower-case letters, digits and '-'", "bad_key"),
}

# pydantic's own error types -> our reason, and the context values its message names.
_PYDANTIC_REASONS = {
    "int_type": ("not_whole_number", ()),
    "int_parsing": ("not_whole_number", ()),
    "int_from_float": ("not_whole_number", ()),
    "float_type": ("not_number", ()),
    "float_parsing": ("not_number", ()),
    "bool_type": ("not_boolean", ()),
    "bool_parsing": ("not_boolean", ()),
    "string_type": ("not_text", ()),
    "list_type": ("not_list", ()),
    "dict_type": ("not_mapping", ()),
    "model_type": ("not_mapping", ()),
    "model_attributes_type": ("not_mapping", ()),
    "string_too_short": ("text_too_short", ("min_length",)),
    "string_too_long": ("text_too_long", ("max_length",)),
    "too_short": ("too_few_items", ("min_length",)),
    "too_long": ("too_many_items", ("max_length",)),
    "greater_than": ("not_above", ("gt",)),
    "greater_than_equal": ("below_minimum", ("ge",)),
    "less_than": ("not_below", ("lt",)),
    "less_than_equal": ("above_maximum", ("le",)),
    "literal_error": ("not_one_of", ("expected",)),
}


def _from_pydantic(error: ValidationError) -> Iterator[_Found]:
    for detail in error.errors(include_url=False):
        location = _without_union_tags(detail["loc"])
        kind = detail["type"]
        context = detail.get("ctx", {})
        if kind == "missing":
            yield _Found(location, "this field is required", "required")
        elif kind == "extra_forbidden":
            yield _Found(location, "unknown field (check its spelling)", "unknown_field",
                         {"name": str(location[-1]) if location else ""})
        elif kind == "union_tag_invalid":
            known = ", ".join(QUESTION_TYPES)
            yield _Found(location + ("type",),
                         f"unknown question type '{context['tag']}' (known: {known})",
                         "unknown_question_type", {"type": context["tag"]})
        elif kind == "union_tag_not_found":
            yield _Found(location + ("type",),
                         f"this field is required (one of: {', '.join(QUESTION_TYPES)})",
                         "question_type_required")
        elif kind == "value_error" and isinstance(context.get("error"), Problem):
            problem = context["error"]
            yield _Found(location, str(problem), problem.reason, dict(problem.params))
        elif kind == "value_error":
            yield _Found(location, str(context.get("error", detail["msg"])), "invalid")
        elif kind == "string_pattern_mismatch" and context.get("pattern") in _PATTERN_HINTS:
            hint, reason = _PATTERN_HINTS[context["pattern"]]
            yield _Found(location, f"{detail['input']!r} is not valid: use {hint}", reason,
                         {"value": detail["input"]})
        elif kind in _PYDANTIC_REASONS:
            reason, names = _PYDANTIC_REASONS[kind]
            params = {name: str(context.get(name, "")) for name in names}
            if "expected" in params:  # "'phone' or 'email'": the values, without the quotes
                params["expected"] = params["expected"].replace("'", "").replace(" or ", ", ")
            yield _Found(location, detail["msg"], reason, params)
        else:
            yield _Found(location, detail["msg"], "invalid")


def _without_union_tags(location: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic puts the question type chosen by the discriminator in the location
    # (pages.0.questions.2.rating.max); the definition's author never wrote it.
    cleaned: list[Any] = []
    for step in location:
        is_tag = (
            len(cleaned) >= 2
            and cleaned[-2] == "questions"
            and isinstance(cleaned[-1], int)
            and step in QUESTION_TYPES
        )
        if not is_tag and step != "[key]":
            cleaned.append(step)
    return tuple(cleaned)


@dataclass(frozen=True)
class _Outline:
    """Where a question is, read from raw data so that it works on invalid definitions too."""

    page: int
    index: int
    code: str
    show_if: Any

    @property
    def location(self) -> tuple[Any, ...]:
        return ("pages", self.page, "questions", self.index)


def _outline(raw: dict[str, Any]) -> list[_Outline]:
    found = []
    pages = raw.get("pages")
    for page_index, page in enumerate(pages if isinstance(pages, list) else []):
        questions = page.get("questions") if isinstance(page, dict) else None
        for index, question in enumerate(questions if isinstance(questions, list) else []):
            if isinstance(question, dict) and isinstance(question.get("code"), str):
                found.append(_Outline(page_index, index, question["code"], question.get("show_if")))
    return found


def _condition_reference_problems(raw: dict[str, Any]) -> Iterator[_Found]:
    """Duplicated codes, and conditions naming unknown, later or same-page questions.

    A condition may only read answers from earlier pages: a page is rendered and submitted as
    a whole, so without JavaScript a question cannot appear in response to an answer given on
    the same page.
    """
    outline = _outline(raw)
    first_by_code: dict[str, _Outline] = {}
    for question in outline:
        first = first_by_code.setdefault(question.code, question)
        if first is not question:
            where = _format_path(first.location)
            yield _Found(
                question.location + ("code",),
                f"code '{question.code}' is already used by {where}",
                "code_repeated",
                {"code": question.code, "page": first.page + 1, "question": first.index + 1},
            )
    for position, question in enumerate(outline):
        if not isinstance(question.show_if, str):
            continue
        try:
            condition = parse_condition(question.show_if)
        except ConditionError:
            continue  # reported by the schema, with the position
        for code in sorted(condition.codes):
            target = first_by_code.get(code)
            if target is None:
                message = f"refers to unknown question '{code}'"
                reason = "condition_unknown_question"
            elif target is question or outline.index(target) > position:
                message = f"refers to '{code}', which is not asked before this question"
                reason = "condition_later_question"
            elif target.page == question.page:
                message = (
                    f"refers to '{code}' on the same page; a condition can only use answers "
                    "from earlier pages"
                )
                reason = "condition_same_page"
            else:
                continue
            yield _Found(question.location + ("show_if",), message, reason, {"code": code})


def _cross_question_problems(questionnaire: Questionnaire) -> Iterator[_Found]:
    """Checks that need the whole, valid definition."""
    located = [
        (("pages", page_index, "questions", index), question)
        for page_index, page in enumerate(questionnaire.pages)
        for index, question in enumerate(page.questions)
    ]
    by_code = {question.code: question for _, question in located}

    # Export columns and form fields of compound questions (`contact_channel`,
    # `channels_used_email`) must not clash with another question's code.
    owner_of_name: dict[str, str] = {}
    for location, question in located:
        for name in dict.fromkeys(question.field_names() + question.column_names()):
            owner = owner_of_name.setdefault(name, question.code)
            if owner != question.code:
                yield _Found(
                    location + ("code",),
                    (
                        f"'{question.code}' produces the field or column '{name}', which clashes "
                        f"with question '{owner}'"
                    ),
                    "column_clash", {"code": question.code, "name": name, "owner": owner},
                )

    overall = [(loc, q) for loc, q in located if isinstance(q, RatingQuestion) and q.overall]
    for location, _ in overall[1:]:
        yield _Found(
            location + ("overall",),
            (f"only one question can be the overall item; '{overall[0][1].code}' already is"),
            "overall_repeated", {"code": overall[0][1].code},
        )

    weighted = [
        (loc, q)
        for loc, q in located
        if isinstance(q, RatingQuestion) and q.index_weight is not None
    ]
    for location, question in weighted[1:]:
        reference = weighted[0][1]
        if question.scale() != reference.scale():
            yield _Found(
                location + ("index_weight",),
                (
                    f"index items must share one scale: {question.min}..{question.max} differs "
                    f"from '{reference.code}' ({reference.min}..{reference.max})"
                ),
                "index_scales_differ",
                {"low": question.min, "high": question.max, "code": reference.code,
                 "reference_low": reference.min, "reference_high": reference.max},
            )

    for location, question in located:
        if question.condition is None:
            continue
        for code, value in question.condition.compared_values():
            target = by_code.get(code)
            possible = target.possible_values() if target is not None else None
            if possible is not None and not any(_same_value(value, p) for p in possible):
                shown = ", ".join(sorted(map(repr, possible)))
                yield _Found(
                    location + ("show_if",),
                    (f"{value!r} is never an answer to '{code}' (possible: {shown})"),
                    "condition_impossible_value",
                    {"value": value, "code": code, "possible": joined(sorted(map(str, possible)))},
                )


def _same_value(left: object, right: object) -> bool:
    return type(left) is type(right) and left == right
