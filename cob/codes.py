"""ICD-10-CM diagnosis code checks, from the code tables bundled with `simple_icd_10_cm`.

Pure data lookups; the tables load once, on first use. Codes travel in X12 form: upper case,
no dot (E11.9 -> E119); people may type either form.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from types import ModuleType

# A letter, a digit, then 1 to 5 more characters: keeps chapters ("4") and blocks ("E08-E13")
# of the classification, which the library also knows, from passing as codes.
_CODE_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")


@cache
def _icd() -> ModuleType:
    """The code tables take about 1.5 s to load, so load them on first use, not on import."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the library's importlib.resources use
        import simple_icd_10_cm

    return simple_icd_10_cm


def normalize_icd10(code: str) -> str:
    """`" e11.9 "` -> `"E119"`: the dotless form an 837 carries (HI*ABK:J020, ASC X12 005010X222A1 loop 2300 HI)."""
    return code.strip().upper().replace(".", "")


def icd10_problem(code: str) -> str | None:
    """None when `code` is a billable ICD-10-CM code (a leaf of the tree), else why not.

    The message names the code as given, e.g. "'E11' is a category, not a billable code
    (use a more specific code such as E11.00)".
    """
    icd, normalized, shown = _icd(), normalize_icd10(code), code.strip()
    if not _CODE_SHAPE.match(normalized) or not icd.is_valid_item(normalized):
        return f"{shown!r} is not an ICD-10-CM code"
    if icd.is_leaf(normalized):
        return None
    # Only leaf codes are valid on a claim (ICD-10-CM Official Guidelines I.B.2).
    kind = "category" if icd.is_category(normalized) else "subcategory"
    example = next((d for d in icd.get_descendants(normalized) if icd.is_leaf(d)), None)
    hint = f" (use a more specific code such as {example})" if example else ""
    return f"{shown!r} is a {kind}, not a billable code{hint}"
