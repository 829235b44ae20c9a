"""Raw values to field types, only when nothing is lost: the string "12" or 12.0 is the count 12; True, 3.5,
"12 or so", a string for a list of authors, a list for an organization are not converted but named.

The one policy for every field the normalizer handles, on every path (API, hydration JSON, cards): a value
that does not convert is a bad value, counted by field and reason (`paperset/bad_values/<field>/<reason>`);
the entry is rejected when the field is one it cannot be without (`REQUIRED`), else the field is kept null.
"""

from __future__ import annotations

import math
import re
from typing import Any

# The fields an entry cannot be without (paperset.crawler.pipelines.validate's rule: a title, and an id or an
# abstract): a bad value there rejects the entry instead of being kept null.
REQUIRED = ("title", "paper_id", "abstract")
# A count as a page or an API may spell it: digits, optionally grouped by commas, around whitespace.
_COUNT_TEXT = re.compile(r"^\s*-?(?:\d{1,3}(?:,\d{3})+|\d+)\s*$")


class BadValue(ValueError):
    """A value that does not convert without loss; `reason` names why in one word (a stats key part)."""

    def __init__(self, reason: str, value: Any) -> None:
        super().__init__(f"{reason}: {value!r}"[:200])
        self.reason = reason


def to_count(value: Any) -> int | None:
    """An int from an int, an integral float or the text of one; BadValue (`bool`, `fraction`,
    `not_a_number`) otherwise. None stays None."""
    if type(value) is int:
        number = value
    elif value is None:
        return None
    elif isinstance(value, bool):
        raise BadValue("bool", value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadValue("not_a_number", value)
        if not value.is_integer():
            raise BadValue("fraction", value)
        number = int(value)
    elif isinstance(value, int):  # an int subclass other than bool
        number = int(value)
    elif isinstance(value, str) and _COUNT_TEXT.match(value):
        number = int(value.replace(",", ""))
    elif isinstance(value, str) and _is_fraction_text(value):
        raise BadValue("fraction", value)
    else:
        raise BadValue("not_a_number", value)
    return number  # a negative one converts: the validation's range rule rejects it (bad_count)


def _is_fraction_text(value: str) -> bool:
    try:
        number = float(value)
    except ValueError:
        return False
    return math.isfinite(number) and not number.is_integer()


def to_text(value: Any) -> str | None:
    """Text stays text (cleaning comes after); anything else is BadValue `not_text`."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    raise BadValue("not_text", value)


def to_text_list(value: Any) -> list[str] | None:
    """A list of texts; BadValue `not_a_list` for anything else (a string of names is not split: where
    one name ends is not known), `not_text` for a list holding something else than text."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise BadValue("not_a_list", value)
    if not all(type(item) is str for item in value):
        if not all(isinstance(item, str) or item is None for item in value):
            raise BadValue("not_text", next(i for i in value if not isinstance(i, str) and i is not None))
        value = [str(item) for item in value if item is not None]
    return value
