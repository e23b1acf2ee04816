"""The OData query options both APIs accept: a `$filter` subset, `$select`, `$orderby` and keyset paging."""

from __future__ import annotations

import base64
import json
import operator
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cmp_to_key
from typing import Any

from bot.sandbox.schema import EDM_TYPES, Entity, Field
from bot.sandbox.timestamps import parse_timestamp


class QueryError(Exception):
    """The query options cannot be understood; each API renders it in its own 400 shape."""


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)
    |(?P<string>'(?:[^']|'')*')
    |(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
    |(?P<number>-?\d+(?:\.\d+)?(?![\w-]))
    |(?P<word>[A-Za-z_$@][A-Za-z0-9_./@$]*)
    )""",
    re.VERBOSE,
)
_OPERATORS = {"eq", "ne", "gt", "ge", "lt", "le"}
_COMPATIBLE = {
    "string": {"string"},
    "guid": {"guid"},
    "datetime": {"datetime"},
    "date": {"date"},
    "decimal": {"int", "decimal"},
    "int": {"int", "decimal"},
    "bool": {"bool"},
}
_LITERAL_EDM = {**EDM_TYPES, "int": "Edm.Int32", "decimal": "Edm.Decimal"}
_OPERATOR_KIND = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}


@dataclass(frozen=True)
class Comparison:
    """`field op literal`."""

    field: Field
    operator: str
    value: Any


@dataclass(frozen=True)
class Junction:
    """`left and right` / `left or right`."""

    operator: str
    left: Comparison | Junction
    right: Comparison | Junction


Filter = Comparison | Junction


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            stripped = len(text[position:]) - len(text[position:].lstrip())
            raise QueryError(f"Syntax error at position {position + stripped + 1} in '{text}'.")
        start = match.start(match.lastgroup)
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), start))
        position = match.end()
    return tokens


class _FilterParser:
    """Recursive descent over `or` / `and` / parentheses / comparisons."""

    def __init__(self, text: str, entity: Entity, type_prefix: str) -> None:
        self.text = text
        self.entity = entity
        self.type_prefix = type_prefix
        self.tokens = _tokenize(text)
        self.index = 0

    def parse(self) -> Filter:
        if not self.tokens:
            raise QueryError("The $filter query option must not be empty.")
        node = self._or()
        if self.index < len(self.tokens):
            raise self._syntax_error(self.tokens[self.index])
        return node

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _next(self) -> _Token:
        token = self._peek()
        if token is None:
            raise QueryError(f"Syntax error: unexpected end of expression in '{self.text}'.")
        self.index += 1
        return token

    def _syntax_error(self, token: _Token) -> QueryError:
        return QueryError(f"Syntax error at position {token.position + 1} in '{self.text}'.")

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "word" and token.text == word

    def _or(self) -> Filter:
        node = self._and()
        while self._is_word("or"):
            self.index += 1
            node = Junction("or", node, self._and())
        return node

    def _and(self) -> Filter:
        node = self._primary()
        while self._is_word("and"):
            self.index += 1
            node = Junction("and", node, self._primary())
        return node

    def _primary(self) -> Filter:
        token = self._next()
        if token.kind == "lparen":
            node = self._or()
            closing = self._next()
            if closing.kind != "rparen":
                raise self._syntax_error(closing)
            return node
        if token.kind != "word":
            raise self._syntax_error(token)
        if token.text == "not":
            raise QueryError(
                "The query specified in the URI is not valid. The operator 'not' is not supported."
            )
        following = self._peek()
        if following is not None and following.kind == "lparen":
            raise QueryError(
                f"The query specified in the URI is not valid. The function '{token.text}' is not supported."
            )
        field = self.entity.field(token.text)
        if field is None:
            raise QueryError(
                f"Could not find a property named '{token.text}' on type "
                f"'{self.type_prefix}.{self.entity.type_name}'."
            )
        operator = self._next()
        if operator.kind != "word":
            raise self._syntax_error(operator)
        if operator.text not in _OPERATORS:
            raise QueryError(
                "The query specified in the URI is not valid. The operator "
                f"'{operator.text}' is not supported."
            )
        literal_kind, value = _literal(self._next(), self.text)
        self._check_types(field, operator.text, literal_kind)
        return Comparison(field, operator.text, value)

    def _check_types(self, field: Field, operator: str, literal_kind: str) -> None:
        if literal_kind == "null":
            if operator in ("eq", "ne"):
                return
        elif literal_kind in _COMPATIBLE[field.kind]:
            return
        raise QueryError(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{EDM_TYPES[field.kind]}' and '{_LITERAL_EDM.get(literal_kind, 'null')}' for operator kind "
            f"'{_OPERATOR_KIND[operator]}'."
        )


def _literal(token: _Token, text: str) -> tuple[str, Any]:
    if token.kind == "string":
        return "string", token.text[1:-1].replace("''", "'")
    if token.kind == "guid":
        return "guid", token.text.lower()
    if token.kind == "datetime":
        return "datetime", parse_timestamp(token.text)
    if token.kind == "date":
        return "date", date.fromisoformat(token.text)
    if token.kind == "number":
        return ("decimal" if "." in token.text else "int"), Decimal(token.text)
    if token.kind == "word" and token.text in ("true", "false"):
        return "bool", token.text == "true"
    if token.kind == "word" and token.text == "null":
        return "null", None
    raise QueryError(f"Syntax error at position {token.position + 1} in '{text}'.")


def parse_filter(text: str, entity: Entity, type_prefix: str) -> Filter:
    """Parse `$filter`; raises QueryError for syntax errors, unknown properties and unsupported parts."""
    return _FilterParser(text, entity, type_prefix).parse()


def _typed(field: Field, raw: Any) -> Any:
    if raw is None:
        return None
    if field.kind == "datetime":
        return parse_timestamp(str(raw))
    if field.kind == "date":
        return date.fromisoformat(str(raw))
    if field.kind in ("decimal", "int"):
        try:
            return Decimal(str(raw))
        except InvalidOperation:
            return None
    if field.kind == "string":
        return str(raw).casefold()
    if field.kind == "guid":
        return str(raw).lower()
    return raw


_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _compare(name: str, left: Any, right: Any) -> bool:
    if name == "eq":
        return bool(left == right)
    if name == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    return bool(_ORDERINGS[name](left, right))


def matches(row: dict[str, Any], node: Filter) -> bool:
    """True when the row satisfies the parsed filter (string comparisons are case-insensitive, as in SQL)."""
    if isinstance(node, Junction):
        if node.operator == "and":
            return matches(row, node.left) and matches(row, node.right)
        return matches(row, node.left) or matches(row, node.right)
    left = _typed(node.field, row.get(node.field.name))
    right = node.value
    if isinstance(right, str) and node.field.kind == "string":
        right = right.casefold()
    return _compare(node.operator, left, right)


def parse_select(text: str | None, entity: Entity, type_prefix: str) -> list[str] | None:
    """Parse `$select` into field names (None when absent); unknown names are refused."""
    if text is None or text.strip() == "":
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if entity.field(name) is None:
            raise QueryError(
                f"Could not find a property named '{name}' on type '{type_prefix}.{entity.type_name}'."
            )
    return names


def parse_orderby(text: str | None, entity: Entity, type_prefix: str) -> list[tuple[str, bool]]:
    """Parse `$orderby` into (field, descending) pairs; the entity's default order when absent."""
    if text is None or text.strip() == "":
        return [(name, False) for name in entity.default_order]
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryError(f"Syntax error in $orderby '{text}'.")
        if entity.field(words[0]) is None:
            raise QueryError(
                f"Could not find a property named '{words[0]}' on type '{type_prefix}.{entity.type_name}'."
            )
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


def project(row: dict[str, Any], select: list[str] | None, always: tuple[str, ...]) -> dict[str, Any]:
    """The row with only the selected fields (plus `@odata.etag` and the `always` ones)."""
    if select is None:
        return dict(row)
    wanted = set(select) | set(always) | {"@odata.etag"}
    return {name: value for name, value in row.items() if name in wanted}


def _sort_key(row: dict[str, Any], entity: Entity, order: list[tuple[str, bool]]) -> list[list[Any]]:
    key: list[list[Any]] = []
    for name, _ in order:
        field = entity.field(name)
        value = row.get(name)
        if value is None or (value == "" and field is not None and field.kind != "string"):
            key.append([0, ""])
        elif field is not None and field.kind in ("decimal", "int"):
            key.append([1, float(value)])
        elif isinstance(value, bool):
            key.append([1, int(value)])
        else:
            key.append([1, str(value).casefold()])
    key.append([1, str(row.get(entity.key, "")).lower()])
    return key


def _cmp(left: list[list[Any]], right: list[list[Any]], descending: list[bool]) -> int:
    for a, b, desc in zip(left, right, descending, strict=False):
        if a != b:
            result = -1 if a < b else 1
            return -result if desc else result
    return 0


@dataclass(frozen=True)
class Page:
    """One page of rows and the opaque token of the next page (None on the last page)."""

    rows: list[dict[str, Any]]
    next_token: str | None


def paginate(
    rows: list[dict[str, Any]],
    entity: Entity,
    order: list[tuple[str, bool]],
    page_size: int,
    token: str | None,
    top: int | None,
) -> Page:
    """Sort, skip past the token's last key, cut one page; keyset paging stays stable under writes.

    The rows are sorted by plain keys, one stable pass per `$orderby` column from the last to the first (each
    in its own direction), and the page after a token is found by bisection: a page of a large table costs
    about what the services' indexes make it cost, not a comparison in Python for every pair of rows.
    """
    descending = [desc for _, desc in order] + [False]
    keyed: list[tuple[list[list[Any]], dict[str, Any]]] = [
        (_sort_key(row, entity, order), row) for row in rows
    ]
    for position in reversed(range(len(descending))):
        keyed.sort(key=lambda item, at=position: item[0][at], reverse=descending[position])  # type: ignore[misc]
    delivered = 0
    start = 0
    if token is not None:
        state = decode_token(token)
        delivered = int(state["n"])

        def compare(a: list[list[Any]], b: list[list[Any]]) -> int:
            return _cmp(a, b, descending)

        in_order = cmp_to_key(compare)
        start = bisect_right(keyed, in_order(state["k"]), key=lambda item: in_order(item[0]))
    limit = page_size if top is None else max(0, min(page_size, top - delivered))
    page = keyed[start : start + limit]
    more = len(keyed) - start > limit and (top is None or delivered + limit < top)
    next_token = encode_token({"k": page[-1][0], "n": delivered + len(page)}) if more and page else None
    return Page([row for _, row in page], next_token)


def encode_token(state: dict[str, Any]) -> str:
    """Opaque paging token."""
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """Read a token made by `encode_token`; raises QueryError when it was tampered with."""
    try:
        padded = token + "=" * (-len(token) % 4)
        state: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(state, dict) or "k" not in state or "n" not in state:
            raise ValueError
        return dict(state)
    except (ValueError, TypeError) as error:
        raise QueryError("The skip token is not valid.") from error


def parse_top(text: str | None) -> int | None:
    """Parse `$top` (a non-negative integer)."""
    if text is None:
        return None
    if not text.isdigit():
        raise QueryError(
            f"Invalid value '{text}' for $top query option found. The $top query option requires a "
            "non-negative integer value."
        )
    return int(text)


def preferred_page_size(prefer: str | None, default: int, maximum: int) -> tuple[int, bool]:
    """Page size from `Prefer: odata.maxpagesize=N` (capped) and whether the preference was applied."""
    if prefer:
        match = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", prefer)
        if match and int(match.group(1)) > 0:
            return min(int(match.group(1)), maximum), True
    return default, False
