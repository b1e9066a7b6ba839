"""278 prior authorization (005010X217): the provider's request and the payer's (UMO's) answer.

The X217 TR3 is licensed and was not read (the 5010 layout is unverified); the layout
follows X12's X217 example 1b (x12.org/examples/005010x217, as quoted in open-source code) and
the 4010 X094 map in pyx12:

    BHT*0007*13 request / BHT*0007*11 response; BHT03 = the trace number
    2000A HL*1**20*1   2010A NM1*X3*2*<payer id>*****PI*<payer id>  (no payer names: the id is it)
    2000B HL*2*1*21*1  2010B NM1*1P*2*<provider>*****XX*<npi>
    2000C HL*3*2*22*1  2010C NM1*IL*1*LAST*FIRST****MI*<member id>, [AAA], DMG*D8*<birth>*<sex>
    2000D HL*4*3*23*1  2010D NM1*QC*1*LAST*FIRST, DMG, INS*N*<01|19|G8>  (patient not subscriber)
    2000E HL*n*m*EV*1  TRN, UM*HS*I, [HCR], DTP*AAH*D8*<service date>, [MSG]
    2000F HL*n*m*SS*0  SV1*HC:<procedure>  (one per procedure, in order)

Choices where the guide or the brief leaves room:
- The service date is the 2000E event date DTP*AAH, as in example 1b (4010 put DTP*472 on the
  service level); parsing also accepts 472, and RD8 (the range's first day).
- The request's TRN*1*<trace>*<provider NPI>; the response echoes it as TRN*2.
- One event-level HCR (2000E) decides all services; the response echoes the SV1s.
- HCR01 written: approved with a number A1*<number>, without one NA (no action required); pended
  A4; denied A3 with HCR03 82 Not Medically Necessary (the 4010 X094A1 HCR03 list; meaning
  from X12 element 901 as listed in open-source code; X217 takes HCR03 from an external code
  list, unverified). Read only: A2 (certified in part) and A6 (modified) are approved, CT (contact
  payer) pended, C (cancelled) denied, the meaning put before the MSG text.
- An unknown member is a request-validation error, not a review decision: a denial with no
  number whose reason says the member id was not found (the payer simulator's wording) is
  written AAA*N**72*C in 2010C (invalid/missing subscriber id; correct and resubmit), no HCR.
- `reason` travels as given in 2000E MSG01 (none when empty); names are not upper-cased, so a
  parsed request equals the one built.

Writing both lives in `payers.x12.prior_auth_278_build` (with `PriorAuthInquiry`, what a request
carries), reading them in `payers.x12.prior_auth_278_read`; every name is importable from here
as before.
"""

from __future__ import annotations

from payers.x12.prior_auth_278_build import (
    DELIMITERS,
    DENIAL_REASON,
    REQUEST,
    RESPONSE,
    UNKNOWN_MEMBER,
    VERSION,
    PriorAuthInquiry,
    build_278_request,
    build_278_response,
    inquiry_for,
)
from payers.x12.prior_auth_278_read import (
    AAA_REASONS,
    ACTIONS,
    RELATIONSHIP,
    M,
    Status,
    parse_278_request,
    parse_278_response,
    summarize_278,
)

__all__ = [
    "AAA_REASONS",
    "ACTIONS",
    "DELIMITERS",
    "DENIAL_REASON",
    "RELATIONSHIP",
    "REQUEST",
    "RESPONSE",
    "UNKNOWN_MEMBER",
    "VERSION",
    "M",
    "PriorAuthInquiry",
    "Status",
    "build_278_request",
    "build_278_response",
    "inquiry_for",
    "parse_278_request",
    "parse_278_response",
    "summarize_278",
]
