"""What the wire can carry: the text, date and number types an encounter's fields are declared
with. Every field of an encounter is written into an X12 element of the 837P (005010X222A1)
and the 270 (005010X279A1); each limit here is the smallest of the elements the field lands
in, so an encounter the engine accepts is one it can send. `cob.model` declares the shapes
with these types (and every name here is importable from it as before).
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

# The 5010 character set (X12.6; TR3 appendix A.1.2.2-A.1.2.3): the basic set (A-Z, 0-9, space,
# ! " & ' ( ) * + , - . / : ; ? =) and the extended set (a-z, % @ [ ] _ { } \ | < > ~ ^ ` # $)
# are together the printable ASCII characters; no control character, nothing beyond ASCII.
# Refused even so: the delimiters. The engine writes '*' (element), ':' (component, ISA16),
# '^' (repetition, ISA11) and '~' (segment), and '|' and '>' are the element and component
# separators clearinghouses most often choose when they re-envelope a claim.
DELIMITERS = "*:^~|>"
EARLIEST_DAY = date(1900, 1, 1)  # before it a date is a typo (and no one alive was born then)


def shown(value: object) -> str:
    """A value as an error message quotes it: its repr, cut to 60 characters, and never more
    than two levels of a nested list or object."""
    if isinstance(value, str) and len(value) > 60:
        value = value[:60]
    if isinstance(value, int) and value.bit_length() > 200:  # repr of a huge int is refused
        return "a number too long to show"
    if isinstance(value, Decimal):  # as typed: 150.5, not Decimal('150.5')
        text = str(value)
    elif isinstance(value, list | dict | tuple | set):
        text = _SHORT.repr(value)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 2, 4, 4, 40
_OFF_THE_WIRE = re.compile(f"[^ -~]|[{re.escape(DELIMITERS)}]")


def wire_problem(text: str) -> str | None:
    """Why `text` cannot be an X12 element value, or None when it can."""
    found = _OFF_THE_WIRE.search(text)
    if found is None:
        return None
    character = found[0]
    if character in DELIMITERS:
        return f"{shown(text)} holds {character!r}, an X12 delimiter"
    return f"{shown(text)} holds {character!r}, which X12 cannot carry (printable ASCII only)"


@dataclass(frozen=True)
class Element:
    """A text field written into the X12 element `name`: surrounding spaces dropped (X12.6:
    trailing spaces are suppressed), then not blank (unless `optional`), at most `max_length`
    characters, in the X12 character set and without a delimiter."""

    name: str  # e.g. "NM103"
    max_length: int
    optional: bool = False  # "" means not given (an element left out)

    def __call__(self, value: str) -> str:
        text = value.strip()
        if not text:
            if self.optional:
                return ""
            raise ValueError("is blank")
        if len(text) > self.max_length:
            raise ValueError(
                f"is {len(text)} characters; {self.name} holds at most {self.max_length}"
            )
        if problem := wire_problem(text):
            raise ValueError(problem)
        return text


def _iso_day(value: object) -> object:
    """Only a date or 'YYYY-MM-DD' text: never a number (pydantic would read 0 as 1970-01-01)
    nor a timestamp."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise PydanticCustomError("date_type", "Input should be a date, YYYY-MM-DD")


def _not_before_1900(day: date) -> date:
    if day < EARLIEST_DAY:
        raise ValueError(f"{day} is before {EARLIEST_DAY}")
    return day


def _us_address(value: str) -> str:
    """'street, city, ST zip', each part within its 837P element (N301 55, N401 30, N402 2,
    N403 15) and written back without spaces around the parts; "" is no address."""
    text = value.strip()
    if not text:
        return ""
    if len(text) > ADDRESS_LENGTH:
        raise ValueError(f"is {len(text)} characters; N3/N4 hold at most {ADDRESS_LENGTH}")
    if problem := wire_problem(text):
        raise ValueError(problem)
    parts = ADDRESS.match(text)
    if parts is None:
        raise ValueError(f"{shown(text)} is not 'street, city, ST zip'")
    street, city = parts["street"].strip(), parts["city"].strip()
    for part, found, element, limit in (("street", street, "N301", 55), ("city", city, "N401", 30)):
        if not found:
            raise ValueError(f"the {part} is blank")
        if len(found) > limit:
            raise ValueError(
                f"the {part} is {len(found)} characters; {element} holds at most {limit}"
            )
    return f"{street}, {city}, {parts['state']} {parts['zip']}"


def _phone(value: str) -> str:
    """A US telephone number: 10 digits (PER04: 'AAABBBCCCC', 005010X222A1 1000A and 2010AA),
    written with or without spaces, parentheses, hyphens or dots; "" is no number."""
    text = value.strip()
    if not text:
        return ""
    if len(text) > 20 or not re.fullmatch(r"[0-9 ().-]+", text):
        raise ValueError(f"{shown(text)} is not a telephone number like (860) 555-0142")
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) != 10:
        raise ValueError(f"{shown(text)} has {len(digits)} digits; PER04 is 10 (AAABBBCCCC)")
    return text


# 'street, city, ST zip' (837P N3/N4); [0-9] rather than \d, which matches any script's digits
US_ADDRESS = r"^(?P<street>.+?),\s*(?P<city>[^,]+),\s*(?P<state>[A-Za-z]{2})\s+(?P<zip>[0-9]{5}(?:-?[0-9]{4})?)$"
ADDRESS = re.compile(US_ADDRESS)
ADDRESS_LENGTH = 55 + 30 + 2 + 10 + 6  # N301, N401, N402, a ZIP+4 and the ', ' and ' ' between

Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_not_before_1900)]
FirstName = Annotated[str, AfterValidator(Element("NM104", 35))]
LastName = Annotated[str, AfterValidator(Element("NM103", 60))]
OrganizationName = Annotated[str, AfterValidator(Element("NM103", 60))]  # also PER02 (60)
# The payer id is the 837P's and 270's receiver: ISA08 (15, fixed width) and GS03 (2 to 15).
# Both ids' least length, 2 (GS03, NM109), is checked at the door (cob.validation).
PayerId = Annotated[str, AfterValidator(Element("GS03", 15))]
MemberId = Annotated[str, AfterValidator(Element("NM109", 80))]
GroupNumber = Annotated[str, AfterValidator(Element("SBR03", 50, optional=True))]  # REF02 50
Address = Annotated[str, AfterValidator(_us_address)]
Phone = Annotated[str, AfterValidator(_phone)]
Digits10 = Annotated[str, Field(pattern=r"^[0-9]{10}$")]  # an NPI: NM109 with NM108 XX
# A diagnosis as typed (E11.9 or E119): HI01-2 is at most 30; cob.codes checks the code itself.
DiagnosisCode = Annotated[str, Field(min_length=1, max_length=30)]
Modifier = Annotated[str, Field(pattern=r"^[A-Z0-9]{2}$")]  # SV101-3 to -6: AN 2/2
Count = Annotated[int, Strict()]  # a JSON whole number; never "1", 1.0 or true
