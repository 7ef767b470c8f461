"""JSON bodies with a bounded nesting depth.

The standard library parser recurses once per nesting level, so `[[[[...]]]]` 1,000 deep raises
RecursionError (not ValueError) and would reach the client as a 500. Every JSON body the API
accepts, and the Stripe webhook's, goes through `loads_bounded`.
"""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JsonTooDeep(ValueError):
    """The document nests deeper than JSON_MAX_DEPTH."""


def _depth(value) -> int:
    """Nesting depth of a parsed document, without recursion (a scalar is 0, `[]` is 1)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in item)
    return deepest


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def loads_bounded(data: bytes | str, *, max_depth: int | None = None):
    """`json.loads`, refusing documents nested deeper than `max_depth` (JsonTooDeep, a ValueError)."""
    limit = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise JsonTooDeep(f"JSON nested deeper than {limit} levels.") from None
    if _depth(value) > limit:
        raise JsonTooDeep(f"JSON nested deeper than {limit} levels.")
    return value


class JsonTooDeepError(ParseError):
    default_detail = "JSON nested too deep."
    default_code = "json_too_deep"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the depth bound; NaN and Infinity are refused as DRF's strict mode does."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"JSON parse error - {error}") from None
        try:
            return loads_bounded(data)
        except JsonTooDeep as error:
            raise JsonTooDeepError(str(error)) from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
