"""Display conditions (``show_if``) over earlier answers.

A condition is parsed by a small tokenizer and recursive-descent parser: nothing is ever handed
to ``eval``, and the grammar has no attribute access, subscripts or calls (besides
``answered(code)``), so a definition cannot run code.

Grammar (lowest precedence first)::

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand [("==" | "!=" | "<" | "<=" | ">" | ">=") operand]
                | operand ["not"] "in" operand
    operand    := NUMBER | STRING | "true" | "false" | CODE | list
                | "answered" "(" CODE ")" | "(" condition ")"
    list       := "[" [literal ("," literal)*] "]"

Parentheses and ``not`` nest at most `MAX_NESTING` (50) levels deep: deeper is refused with a
`ConditionError` (a questionnaire needs a few; thousands would exhaust the parser's stack).

Examples: ``overall <= 2``, ``complaint == true and not answered(reason)``,
``'email' in channels_used``, ``visit_reason in ['claim', 'billing']``.

Evaluation rules, chosen so that a question depending on an unanswered one stays hidden:

- an answer is *missing* when its code is absent, ``None``, an empty string or an empty list;
- every comparison and membership test involving a missing answer is false, including ``!=`` and
  ``not in`` (write ``not (q1 == 2)`` to also show a question when ``q1`` is unanswered);
- values compare only with values of the same kind (number, text, boolean): ``q1 == '2'`` is
  false when ``q1`` is the number 2, and ordering a number against a text is false;
- a rating answered "not applicable" is the text ``'na'``: it is answered, but no numeric
  comparison holds for it;
- ``x in code`` tests membership in a multiple-choice answer (a list).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from questionnaires.problems import Problem

__all__ = ["MAX_NESTING", "Condition", "ConditionError", "parse_condition", "is_missing"]

#: The deepest a condition may nest parentheses and ``not``.
MAX_NESTING = 50


class ConditionError(Problem):
    """A condition that cannot be parsed; ``position`` is the 0-based character offset.
    ``reason`` and ``params`` name the problem for a page in another language (``character``
    is the 1-based position people count in)."""

    def __init__(self, message: str, position: int, reason: str, **params: Any) -> None:
        super().__init__(f"{message} (at character {position + 1})", reason,
                         character=position + 1, **params)
        self.problem = message
        self.position = position


# ---------------------------------------------------------------------------------------------
# Tokens

_TOKEN_PATTERN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'[^'\\\n]*'|"[^"\\\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)

_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})

# Characters people (or attackers) try, with the reason they are refused.
_REFUSED_CHARACTERS = {
    ".": ("attribute access is not allowed", "condition_attribute"),
    "=": ("use '==' to compare", "condition_single_equals"),
    ":": ("':' is not allowed (no lambdas, slices or dictionaries)", "condition_colon"),
    "\\": ("backslashes are not allowed in texts", "condition_backslash"),
    "'": ("unterminated text (missing closing quote)", "condition_unterminated_text"),
    '"': ("unterminated text (missing closing quote)", "condition_unterminated_text"),
}


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "string", "name", "keyword", "operator" or "end"
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN_PATTERN.match(text, position)
        if match is None:
            character = text[position]
            message, reason = _REFUSED_CHARACTERS.get(
                character, (f"unexpected character {character!r}", "condition_character"))
            raise ConditionError(message, position, reason, found=character)
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "name":
            kind = _classify_name(value, position)
        if kind != "space":
            tokens.append(_Token(kind, value, position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _classify_name(name: str, position: int) -> str:
    if name in _KEYWORDS:
        return "keyword"
    if name.startswith("_"):
        raise ConditionError(f"'{name}' is not allowed: names cannot start with '_'", position,
                             "condition_underscore", name=name)
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        hint = " (write true or false in lower case)" if name in ("True", "False") else ""
        raise ConditionError(f"'{name}' is not allowed in a condition{hint}", position,
                             "condition_capital_boolean" if hint else "condition_keyword",
                             name=name)
    return "name"


# ---------------------------------------------------------------------------------------------
# Syntax tree. Value nodes produce an answer or a literal; test nodes produce a boolean.

_MISSING = object()


def is_missing(value: object) -> bool:
    """Whether an answer counts as not given (see the module documentation)."""
    return value is None or value is _MISSING or value == "" or value == []


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


def _same(left: object, right: object) -> bool:
    return _kind(left) == _kind(right) and left == right


class _Node:
    start: int

    def references(self) -> Iterator[str]:
        yield from ()


class _Value(_Node):
    def value(self, answers: Mapping[str, object]) -> object:
        raise NotImplementedError


class _Test(_Node):
    def holds(self, answers: Mapping[str, object]) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class _Literal(_Value):
    constant: object
    start: int

    def value(self, answers: Mapping[str, object]) -> object:
        return self.constant


@dataclass(frozen=True)
class _ListLiteral(_Value):
    items: tuple[object, ...]
    start: int

    def value(self, answers: Mapping[str, object]) -> object:
        return list(self.items)


@dataclass(frozen=True)
class _Answer(_Value):
    code: str
    start: int

    def value(self, answers: Mapping[str, object]) -> object:
        return answers.get(self.code, _MISSING)

    def references(self) -> Iterator[str]:
        yield self.code


_ORDERINGS = {
    "<": lambda left, right: left < right,
    "<=": lambda left, right: left <= right,
    ">": lambda left, right: left > right,
    ">=": lambda left, right: left >= right,
}


@dataclass(frozen=True)
class _Comparison(_Test):
    operator: str
    left: _Value
    right: _Value
    start: int

    def holds(self, answers: Mapping[str, object]) -> bool:
        left, right = self.left.value(answers), self.right.value(answers)
        if is_missing(left) or is_missing(right):
            return False
        if self.operator == "==":
            return _same(left, right)
        if self.operator == "!=":
            return not _same(left, right)
        if _kind(left) != _kind(right) or _kind(left) not in ("number", "text"):
            return False
        return _ORDERINGS[self.operator](left, right)

    def references(self) -> Iterator[str]:
        yield from self.left.references()
        yield from self.right.references()


@dataclass(frozen=True)
class _Membership(_Test):
    item: _Value
    container: _Value
    negated: bool
    start: int

    def holds(self, answers: Mapping[str, object]) -> bool:
        item, container = self.item.value(answers), self.container.value(answers)
        if is_missing(item) or is_missing(container) or not isinstance(container, list):
            return False
        found = any(_same(item, element) for element in container)
        return found != self.negated

    def references(self) -> Iterator[str]:
        yield from self.item.references()
        yield from self.container.references()


@dataclass(frozen=True)
class _Answered(_Test):
    code: str
    start: int

    def holds(self, answers: Mapping[str, object]) -> bool:
        return not is_missing(answers.get(self.code))

    def references(self) -> Iterator[str]:
        yield self.code


@dataclass(frozen=True)
class _Not(_Test):
    operand: _Test
    start: int

    def holds(self, answers: Mapping[str, object]) -> bool:
        return not self.operand.holds(answers)

    def references(self) -> Iterator[str]:
        yield from self.operand.references()


@dataclass(frozen=True)
class _AllOf(_Test):
    operands: tuple[_Test, ...]
    start: int

    def holds(self, answers: Mapping[str, object]) -> bool:
        return all(operand.holds(answers) for operand in self.operands)

    def references(self) -> Iterator[str]:
        for operand in self.operands:
            yield from operand.references()


@dataclass(frozen=True)
class _AnyOf(_AllOf):
    def holds(self, answers: Mapping[str, object]) -> bool:
        return any(operand.holds(answers) for operand in self.operands)


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def nest(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ConditionError(
                f"the condition nests parentheses or 'not' more than {MAX_NESTING} levels "
                "deep: write it more simply", position, "condition_too_deep",
                maximum=MAX_NESTING)

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def accept(self, kind: str, text: str) -> bool:
        if self.current.kind == kind and self.current.text == text:
            self.index += 1
            return True
        return False

    def expect(self, kind: str, text: str, what: str) -> None:
        if not self.accept(kind, text):
            raise ConditionError(f"expected {what}, found {_describe(self.current)}",
                                 self.position, "condition_expected", expected=text,
                                 found=self.current.text)

    @property
    def position(self) -> int:
        return self.current.position

    def parse(self) -> _Test:
        if self.current.kind == "end":
            raise ConditionError("the condition is empty", 0, "condition_empty")
        node = self.parse_or()
        if self.current.kind != "end":
            raise ConditionError(f"unexpected {_describe(self.current)}", self.position,
                                 "condition_unexpected", found=self.current.text)
        return _as_test(node)

    def parse_or(self) -> _Node:
        start = self.position
        operands = [self.parse_and()]
        while self.accept("keyword", "or"):
            operands.append(self.parse_and())
        if len(operands) == 1:
            return operands[0]
        return _AnyOf(tuple(_as_test(operand) for operand in operands), start)

    def parse_and(self) -> _Node:
        start = self.position
        operands = [self.parse_not()]
        while self.accept("keyword", "and"):
            operands.append(self.parse_not())
        if len(operands) == 1:
            return operands[0]
        return _AllOf(tuple(_as_test(operand) for operand in operands), start)

    def parse_not(self) -> _Node:
        start = self.position
        if self.accept("keyword", "not"):
            self.nest(start)
            node = _Not(_as_test(self.parse_not()), start)
            self.depth -= 1
            return node
        return self.parse_comparison()

    def parse_comparison(self) -> _Node:
        start = self.position
        left = self.parse_operand()
        token = self.current
        if token.kind == "operator" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            self.advance()
            right = self.parse_operand()
            return _Comparison(token.text, _as_value(left), _as_value(right), start)
        negated = False
        if token.kind == "keyword" and token.text == "not":
            self.advance()
            negated = True
            if self.current.text != "in":
                raise ConditionError(
                    f"expected 'in' after 'not', found {_describe(self.current)}", self.position,
                    "condition_not_without_in", found=self.current.text,
                )
        if self.accept("keyword", "in"):
            container = self.parse_operand()
            if not isinstance(container, _Answer | _ListLiteral):
                raise ConditionError(
                    "'in' needs a list ([1, 2]) or a multiple-choice question on its right",
                    container.start, "condition_in_needs_list",
                )
            return _Membership(_as_value(left), container, negated, start)
        return left

    def parse_operand(self) -> _Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            return _Literal(_number(token.text), token.position)
        if token.kind == "string":
            self.advance()
            return _Literal(token.text[1:-1], token.position)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.advance()
            return _Literal(token.text == "true", token.position)
        if token.kind == "operator" and token.text == "[":
            return self.parse_list()
        if token.kind == "operator" and token.text == "(":
            self.advance()
            self.nest(token.position)
            node = self.parse_or()
            self.expect("operator", ")", "')'")
            self.depth -= 1
            return node
        if token.kind == "name":
            return self.parse_name()
        raise ConditionError(f"expected a value, found {_describe(token)}", token.position,
                             "condition_value_expected", found=token.text)

    def parse_name(self) -> _Node:
        token = self.advance()
        following = self.current
        if following.kind == "operator" and following.text == "(":
            if token.text != "answered":
                raise ConditionError(
                    f"calling '{token.text}' is not allowed: the only function is answered(code)",
                    token.position, "condition_call", name=token.text,
                )
            self.advance()
            argument = self.current
            if argument.kind != "name":
                raise ConditionError(
                    f"answered() takes a question code, found {_describe(argument)}",
                    argument.position, "condition_answered_argument", found=argument.text,
                )
            self.advance()
            self.expect("operator", ")", "')' closing answered(")
            return _Answered(argument.text, token.position)
        if following.kind == "operator" and following.text == "[":
            raise ConditionError("subscripts are not allowed", following.position,
                                 "condition_subscript")
        if token.text == "answered":
            # The function's name is reserved: no question may be called that.
            raise ConditionError("answered is a function: write answered(code)",
                                 token.position, "condition_answered_alone")
        return _Answer(token.text, token.position)

    def parse_list(self) -> _ListLiteral:
        start = self.advance().position
        items: list[object] = []
        if not self.accept("operator", "]"):
            while True:
                element = self.parse_operand()
                if not isinstance(element, _Literal):
                    raise ConditionError(
                        "a list may only contain numbers, texts, true or false", element.start,
                        "condition_list_items",
                    )
                items.append(element.constant)
                if self.accept("operator", "]"):
                    break
                self.expect("operator", ",", "',' or ']'")
        return _ListLiteral(tuple(items), start)


def _number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def _describe(token: _Token) -> str:
    return "the end of the condition" if token.kind == "end" else f"'{token.text}'"


def _as_test(node: _Node) -> _Test:
    if isinstance(node, _Test):
        return node
    if isinstance(node, _Answer):
        raise ConditionError(
            f"'{node.code}' alone is not a condition: compare it ({node.code} == ...) "
            f"or write answered({node.code})",
            node.start, "condition_name_alone", code=node.code,
        )
    raise ConditionError("a value alone is not a condition", node.start, "condition_value_alone")


def _as_value(node: _Node) -> _Value:
    if isinstance(node, _Value):
        return node
    raise ConditionError("a condition cannot be compared; combine with 'and' / 'or'",
                         node.start, "condition_compared")


# ---------------------------------------------------------------------------------------------
# Public API


class Condition:
    """A parsed ``show_if`` condition; build one with :func:`parse_condition`."""

    def __init__(self, text: str, tree: _Test) -> None:
        self.text = text
        self._tree = tree
        self.codes: frozenset[str] = frozenset(tree.references())
        """The question codes the condition reads."""

    def evaluate(self, answers: Mapping[str, object]) -> bool:
        """Whether the condition holds for ``answers`` (question code → stored value)."""
        return self._tree.holds(answers)

    def compared_values(self) -> Iterator[tuple[str, object]]:
        """``(code, literal)`` for every literal tested for equality or membership against an
        answer, so that a definition can be checked for values a question cannot take."""
        yield from _compared_values(self._tree)

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _compared_values(node: _Node) -> Iterator[tuple[str, object]]:
    if isinstance(node, _Not):
        yield from _compared_values(node.operand)
    elif isinstance(node, _AllOf):
        for operand in node.operands:
            yield from _compared_values(operand)
    elif isinstance(node, _Comparison) and node.operator in ("==", "!="):
        for answer, literal in ((node.left, node.right), (node.right, node.left)):
            if isinstance(answer, _Answer) and isinstance(literal, _Literal):
                yield answer.code, literal.constant
    elif isinstance(node, _Membership):
        if isinstance(node.item, _Answer) and isinstance(node.container, _ListLiteral):
            for item in node.container.items:
                yield node.item.code, item
        elif isinstance(node.container, _Answer) and isinstance(node.item, _Literal):
            yield node.container.code, node.item.constant


def parse_condition(text: str) -> Condition:
    """Parse a ``show_if`` condition; raises :class:`ConditionError` saying what and where."""
    if not isinstance(text, str):
        raise TypeError(f"a condition is a text, not {type(text).__name__}")
    return Condition(text, _Parser(text).parse())
