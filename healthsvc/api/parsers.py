"""The API's JSON parser: DRF's, stricter where a body could mean two things.

- Nesting: Python's decoder recurses once per level, so ``[[[[...`` a few
  thousand deep is a RecursionError (a 500) inside DRF's parser, and a few
  hundred deep parses but breaks whatever walks it later (the idempotency key
  hashes the body). The contract's bodies are flat objects; MAX_DEPTH leaves
  room to spare.
- Duplicate keys: ``{"slot_id": 7, "slot_id": 9}`` is one booking to Python
  (the last wins) and may be another to a proxy, a log or a partner's
  validator that read the first. RFC 8259 leaves it to the receiver; we refuse.
- The charset: JSON between systems is UTF-8 (RFC 8259, 8.1) and application/json
  defines no charset parameter (11). DRF decoded the body with whatever charset
  the Content-Type named, so ``charset=utf-7`` turned ``+ADw-`` into ``<`` after
  anything that inspected the bytes, and ``charset=latin-1`` stored mojibake.
  The body is read as UTF-8 whatever the header says; bytes that are not UTF-8
  are a 400.
"""

from rest_framework import parsers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

MAX_DEPTH = 32


def _depth_exceeds(value, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep (without recursing)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _object_without_duplicate_keys(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"duplicate key {duplicate!r}")
    return obj


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        try:
            data = json.loads(
                stream.read().decode("utf-8"),
                parse_constant=json.strict_constant if self.strict else None,
                object_pairs_hook=_object_without_duplicate_keys,
            )
        except RecursionError:
            raise too_deep from None
        except ValueError as exc:  # UnicodeDecodeError and json's JSONDecodeError among them
            raise ParseError(f"JSON parse error - {exc}") from None
        if _depth_exceeds(data, MAX_DEPTH):
            raise too_deep
        return data


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's, except that a request body's Content-Type must name its format:
    DRF matched ``*/*`` or ``application/*`` (wildcards of an Accept header, not
    of a Content-Type) to the JSON parser and read the body as JSON. They are
    a 415 like any other type we do not read."""

    def select_parser(self, request, parsers):
        if "*" in request.content_type.split(";", 1)[0]:
            return None
        return super().select_parser(request, parsers)
