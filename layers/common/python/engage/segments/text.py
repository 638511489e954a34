"""The readable text form of a rule, and its exact conversion to and from the tree.

    tag:interest:cosmetics AND tag:stage:purchased AND NOT tag:product:lipstick AND last_order < 90d

Grammar (precedence NOT > AND > OR; parentheses group; keywords in any case):

    expr    := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | "NOT" "(" expr ")" | "(" expr ")" | leaf
    leaf    := tag:<name> | tag:<prefix>* | <dimension>:<value>        (a bare tag name works too)
             | lifecycle:<stage> | rfm:<group> | country:<CC> | consent:marketing
             | last_interaction|last_order|first_order  ("<" | ">")  <N>d
             | orders (">=" | "<=") <N> ["in" <D>d]
             | total_spent (">=" | "<=") <X>
             | referred_by:<code> | referrals (">=" | "<=") <N>

`last_order < 90d` is "within the last 90 days", `last_order > 90d` "more than 90 days ago".
`NOT (a OR b)` is `none: [a, b]`; `NOT x` is `none: [x]`. Parentheses the printer writes are the
grouping of the JSON, so JSON -> text -> JSON is exact; text -> JSON -> text gives the canonical text
(`tag:` prefixes, upper-case keywords, single spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Literal

from engage.segments.rule_tree import (
    AMOUNT_MESSAGE,
    COUNT_MESSAGE,
    DAYS_MESSAGE,
    MAX_DAYS,
    MAX_NAME,
    MAX_ORDERS,
    MAX_TEXT,
    MAX_TEXT_NESTING,
    RECENCY_FIELDS,
    REFERRALS_MESSAGE,
    Consent,
    Country,
    Group,
    Lifecycle,
    Node,
    Orders,
    Recency,
    Referrals,
    ReferredBy,
    Rfm,
    Spent,
    Tag,
    TagPrefix,
    amount_ok,
    check_size,
    count_ok,
    days_ok,
    group,
    refuse,
)

TOKEN = re.compile(r"\s*(?:(?P<op>>=|<=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z0-9_.:+\-*]+)|(?P<bad>\S))")
DURATION = re.compile(r"^([0-9]{1,9})d$")  # more digits than a day count has are refused as such
KEYWORDS = ("AND", "OR", "NOT")
COUNTS = ("orders", "total_spent", "referrals")  # `<attribute> >= X` / `<= X`
ATTRIBUTES = (*RECENCY_FIELDS, *COUNTS, "tag", "lifecycle", "rfm", "country", "consent", "referred_by")
NAMED = {"lifecycle", "rfm", "country", "consent", "referred_by"}


@dataclass(frozen=True)
class Token:
    kind: str  # op, paren, word, end
    text: str
    at: int

    def keyword(self) -> str | None:
        upper = self.text.upper()
        return upper if self.kind == "word" and upper in KEYWORDS else None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while True:
        match = TOKEN.match(text, position)
        if not match or match.end() == position:
            break
        kind = match.lastgroup or "bad"
        start = match.start(kind)
        if kind == "bad":
            raise refuse("syntax", f"unexpected character {match.group(kind)!r}", start)
        tokens.append(Token(kind, match.group(kind), start))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class Parser:
    def __init__(self, text: str):
        if len(text) > MAX_TEXT:
            raise refuse("too_long", f"a rule has at most {MAX_TEXT} characters", MAX_TEXT, limit=MAX_TEXT)
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise refuse("empty_rule", "the rule is empty", 0)
        node = self.expr()
        if self.token.kind != "end":
            raise refuse("syntax", f"expected AND, OR or the end, found {self.token.text!r}", self.token.at)
        return node

    def expr_terms(self) -> list[Node]:
        terms = [self.conjunction()]
        while self.token.keyword() == "OR":
            self.take()
            terms.append(self.conjunction())
        return terms

    def expr(self) -> Node:
        at = self.token.at
        return group("any", self.expr_terms(), at)

    def conjunction(self) -> Node:
        at = self.token.at
        factors = [self.negation()]
        while self.token.keyword() == "AND":
            self.take()
            factors.append(self.negation())
        return group("all", factors, at)

    def negation(self) -> Node:
        token = self.token
        if token.keyword() == "NOT" or token.text == "(":
            self.nesting += 1
            if self.nesting > MAX_TEXT_NESTING:
                message = f"a rule nests at most {MAX_TEXT_NESTING} parentheses and NOTs"
                raise refuse("too_deep", message, token.at, limit=MAX_TEXT_NESTING)
            try:
                return self.nested(token)
            finally:
                self.nesting -= 1
        return self.leaf()

    def nested(self, token: Token) -> Node:
        if token.keyword() == "NOT":
            self.take()
            if self.token.text == "(":
                self.take()
                terms = self.expr_terms()
                self.close()
                return Group("none", tuple(terms), token.at)
            return Group("none", (self.negation(),), token.at)
        self.take()
        node = self.expr()
        self.close()
        return node

    def close(self) -> None:
        if self.token.text != ")":
            raise refuse("syntax", f"expected ')', found {self.token.text or 'the end'!r}", self.token.at)
        self.take()

    def leaf(self) -> Node:
        token = self.take()
        if token.kind != "word" or token.keyword():
            found = token.text or "the end"
            raise refuse("syntax", f"expected a tag or an attribute, found {found!r}", token.at)
        word = token.text
        if len(word) > MAX_NAME:
            raise refuse("bad_value", f"a name has at most {MAX_NAME} characters", token.at, limit=MAX_NAME)
        if word in RECENCY_FIELDS:
            return self.recency(word, token.at)
        if word in COUNTS:
            return self.amount(word, token.at)
        if ":" not in word:
            hints = get_close_matches(word.lower(), ATTRIBUTES, n=3, cutoff=0.5)
            raise refuse("unknown_attribute", f"unknown attribute '{word}'", token.at, suggestions=hints)
        return named_leaf(word, token.at)

    def recency(self, word: str, at: int) -> Recency:
        op = self.take()
        if op.text not in ("<", ">"):
            raise refuse("syntax", f"{word} takes '< Nd' (within) or '> Nd' (longer ago)", op.at)
        return Recency(word, "within" if op.text == "<" else "older", self.duration(), at)

    def duration(self) -> int:
        token = self.take()
        match = DURATION.match(token.text) if token.kind == "word" else None
        if not match:
            found = token.text or "the end"
            raise refuse("bad_value", f"expected a number of days like 90d, found {found!r}", token.at)
        if not days_ok(int(match.group(1))):
            raise refuse("bad_value", f"{DAYS_MESSAGE}, found {token.text!r}", token.at, limit=MAX_DAYS)
        return int(match.group(1))

    def amount(self, word: str, at: int) -> Orders | Spent | Referrals:
        op = self.take()
        if op.text not in (">=", "<="):
            raise refuse("syntax", f"{word} takes '>= X' or '<= X'", op.at)
        kind: Literal["at_least", "at_most"] = "at_least" if op.text == ">=" else "at_most"
        value = self.take()
        number = _number(value.text) if value.kind == "word" else None
        if number is None:
            what = "a number" if word == "total_spent" else "a whole number"
            raise refuse("bad_value", f"{word} compares with {what}, found {value.text or 'the end'!r}", value.at)
        if word in ("orders", "referrals") and not count_ok(number):
            message = COUNT_MESSAGE if word == "orders" else REFERRALS_MESSAGE
            raise refuse("bad_value", f"{message}, found {value.text!r}", value.at, limit=MAX_ORDERS)
        if not amount_ok(number):
            raise refuse("bad_value", f"{AMOUNT_MESSAGE}, found {value.text!r}", value.at)
        if word == "total_spent":
            return Spent(kind, number, at)
        if word == "referrals":
            return Referrals(kind, int(number), at)
        within = None
        if self.token.kind == "word" and self.token.text.lower() == "in":
            self.take()
            within = self.duration()
        return Orders(kind, int(number), within, at)


NUMBER = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?$")


def _number(text: str) -> int | float | None:
    """A plain decimal (`120`, `49.90`, `1e3`); no `nan`, `inf`, `_` or signs, at most 20 digits each side."""
    if not NUMBER.match(text):
        return None
    if text.isdigit():
        return int(text)
    return float(text)


def named_leaf(word: str, at: int) -> Node:
    head, _, rest = word.partition(":")
    if head == "tag":
        return TagPrefix(rest[:-1], at) if rest.endswith("*") else Tag(rest, at)
    if head in NAMED and rest:
        if head == "lifecycle":
            return Lifecycle(rest, at)
        if head == "rfm":
            return Rfm(rest, at)
        if head == "country":
            return Country(rest, at)
        if head == "referred_by":
            return ReferredBy(rest, at)
        return Consent(rest, at)
    return TagPrefix(word[:-1], at) if word.endswith("*") else Tag(word, at)


def from_text(text: str) -> Node:
    """Parses the text form. Raises Invalid (code `invalid_rule`) with the character offset."""
    node = Parser(text).parse()
    check_size(node)
    return node


# ---------------------------------------------------------------- tree -> text


def to_text(node: Node) -> str:
    if isinstance(node, Group):
        if node.op == "all":
            return " AND ".join(_operand(child, "all") for child in node.children)
        if node.op == "any":
            return " OR ".join(_operand(child, "any") for child in node.children)
        if len(node.children) == 1:
            return "NOT " + _negated(node.children[0])
        return "NOT (" + " OR ".join(_operand(child, "any") for child in node.children) + ")"
    return leaf_text(node)


def _operand(child: Node, parent: str) -> str:
    if isinstance(child, Group) and (child.op == parent or (parent == "all" and child.op == "any")):
        return f"({to_text(child)})"
    return to_text(child)


def _negated(child: Node) -> str:
    if not isinstance(child, Group) or child.op == "none":
        return to_text(child)
    if child.op == "all":
        return f"({to_text(child)})"
    return f"(({to_text(child)}))"  # NOT (a OR b) would read as none: [a, b]


def leaf_text(node: Node) -> str:
    if isinstance(node, Tag):
        return f"tag:{node.name}"
    if isinstance(node, TagPrefix):
        return f"tag:{node.prefix}*"
    if isinstance(node, Recency):
        return f"{node.attribute} {'<' if node.op == 'within' else '>'} {node.days}d"
    if isinstance(node, Orders):
        window = f" in {node.within_days}d" if node.within_days is not None else ""
        return f"orders {'>=' if node.op == 'at_least' else '<='} {node.value}{window}"
    if isinstance(node, Spent):
        return f"total_spent {'>=' if node.op == 'at_least' else '<='} {node.value!r}"
    if isinstance(node, Consent):
        return f"consent:{node.kind}"
    if isinstance(node, Country):
        return f"country:{node.code}"
    if isinstance(node, Lifecycle):
        return f"lifecycle:{node.stage}"
    if isinstance(node, Rfm):
        return f"rfm:{node.group}"
    if isinstance(node, ReferredBy):
        return f"referred_by:{node.code}"
    if isinstance(node, Referrals):
        return f"referrals {'>=' if node.op == 'at_least' else '<='} {node.value}"
    raise TypeError(f"not a rule node: {node!r}")
