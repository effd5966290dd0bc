"""The API's JSON parser: DRF's, refusing JSON nested past any body of the contract.

Python's decoder recurses once per level, so ``[[[[...`` a few thousand deep is
a RecursionError (a 500) inside DRF's parser, and a few hundred deep parses
but breaks whatever walks it later (the idempotency key hashes the body). The
contract's bodies are flat objects; MAX_DEPTH leaves room to spare.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

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


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON nested more than {MAX_DEPTH} levels deep.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if _depth_exceeds(data, MAX_DEPTH):
            raise too_deep
        return data
