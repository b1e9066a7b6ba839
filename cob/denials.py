"""What to do about a payer's denial, by CARC, and what a correction must fix.

The codes and their meanings are X12's Claim Adjustment Reason Codes (CARC) and Remittance
Advice Remark Codes (RARC), as published at x12.org. The route for each code is the engine's
default work routing: industry practice, not from a standard, and configurable. Deadlines and
appeal levels live in cob.deadlines and cob.appeals; here a denial is classified, and a
correctable one can be fixed and resubmitted.
"""

from __future__ import annotations

from enum import StrEnum

from cob.model import Adjustment, Encounter, Model, Remittance

# Normal adjustments, not denials: X12 CARC 45 (charge over the fee schedule or contracted
# fee), 23 (the impact of prior payers' adjudication), 253 (sequestration).
CONTRACTUAL = {"45", "23", "253"}


class Route(StrEnum):
    POST = "post"
    FIX_RESUBMIT = "fix_resubmit"
    APPEAL = "appeal"
    COB_REVIEW = "cob_review"
    WRITE_OFF = "write_off"
    NEXT_PAYER = "next_payer"
    BILL_PATIENT = "bill_patient"


# X12 CARC -> the default work route (industry practice, not from a standard; configurable).
ROUTES: dict[str, Route] = {
    "4": Route.FIX_RESUBMIT,
    "5": Route.FIX_RESUBMIT,
    "16": Route.FIX_RESUBMIT,
    "31": Route.FIX_RESUBMIT,
    "11": Route.FIX_RESUBMIT,
    "167": Route.FIX_RESUBMIT,
    "50": Route.APPEAL,
    "151": Route.APPEAL,
    "197": Route.APPEAL,
    "198": Route.APPEAL,
    "19": Route.COB_REVIEW,
    "20": Route.COB_REVIEW,
    "21": Route.COB_REVIEW,
    "22": Route.COB_REVIEW,
    "109": Route.COB_REVIEW,
    "18": Route.WRITE_OFF,
    "24": Route.WRITE_OFF,
    "97": Route.WRITE_OFF,
    "234": Route.WRITE_OFF,
    "119": Route.NEXT_PAYER,
    "209": Route.NEXT_PAYER,
}
# The order in which a claim with several denial reasons is worked: a fix first, since a
# corrected claim may clear the others.
PRIORITY = [Route.FIX_RESUBMIT, Route.COB_REVIEW, Route.APPEAL, Route.NEXT_PAYER, Route.WRITE_OFF]

# What the engine does on each route, recorded with the denial.
ROUTE_ACTIONS: dict[Route, str] = {
    Route.FIX_RESUBMIT: "held for the team's correction (update correct_claim), then "
    "resubmitted: frequency 7 with the payer's claim number, or 1 if never accepted",
    Route.APPEAL: "appealed: an AppealWorkflow works the payer's levels and windows",
    Route.COB_REVIEW: "another payer may be primary: verify the other coverage (271) and "
    "the order of benefits, then rebill; a task for the team",
    Route.WRITE_OFF: "written off as the payer's adjustment; never billed to the patient",
    Route.NEXT_PAYER: "left open for the next payer in the order of benefits",
    Route.BILL_PATIENT: "the patient's, on the statement after the last payer",
}

# RARC -> the correction field that answers it (X12 CARC 16: "At least one Remark Code must be
# provided"; RARC N290: missing/incomplete/invalid rendering provider primary identifier).
REMARK_FIXES = {"N290": "rendering_provider_npi"}


class DenialDecision(Model):
    route: Route
    reason_code: str = ""  # CARC
    remarks: list[str] = []
    explanation: str = ""


class ClaimCorrection(Model):
    """A billing team's fix for a denied or rejected claim."""

    rendering_provider_npi: str | None = None
    line_modifiers: dict[int, list[str]] = {}
    diagnoses: list[str] | None = None
    note: str = ""
    by: str = ""  # who sent it (the `cob` user or the console's); "" before it was recorded


def is_denial(adj: Adjustment) -> bool:
    """A payer's refusal to pay (CO/OA/PI other than contract, prior payers, sequestration);
    the patient's cost sharing (PR) is not a denial."""
    return adj.group != "PR" and adj.reason not in CONTRACTUAL and adj.amount != 0


def route_denial(remittance: Remittance) -> DenialDecision:
    """Classify the CO/OA/PI denials on a remittance; POST when there is nothing to work."""
    found: dict[Route, tuple[str, list[str]]] = {}
    for line in remittance.lines:
        for adj in line.adjustments:
            if not is_denial(adj):
                continue
            route = ROUTES.get(adj.reason, Route.WRITE_OFF if adj.group == "CO" else Route.POST)
            found.setdefault(route, (adj.reason, line.remarks))
    for route in PRIORITY:
        if route in found:
            carc, remarks = found[route]
            return DenialDecision(
                route=route,
                reason_code=carc,
                remarks=list(remarks),
                explanation=f"CARC {carc}{' ' + ','.join(remarks) if remarks else ''} -> {route}",
            )
    return DenialDecision(route=Route.POST, explanation="no denial to work")


def correction_problem(decision: DenialDecision, correction: ClaimCorrection) -> str | None:
    """Why a correction cannot be accepted for this denial, or None when it is complete."""
    if not (correction.rendering_provider_npi or correction.line_modifiers or correction.diagnoses):
        return "the correction changes nothing: give rendering_provider_npi, line_modifiers or diagnoses"
    npi = correction.rendering_provider_npi
    if npi is not None and not (len(npi) == 10 and npi.isdigit()):
        return f"rendering_provider_npi {npi!r} is not a 10-digit NPI"
    for remark in decision.remarks:
        field = REMARK_FIXES.get(remark)
        if field and not getattr(correction, field):
            return f"remark {remark} requires {field} in the correction"
    return None


def apply_correction(encounter: Encounter, correction: ClaimCorrection) -> Encounter:
    changes: dict = {}
    if correction.rendering_provider_npi:
        changes["rendering_provider_npi"] = correction.rendering_provider_npi
    if correction.diagnoses:
        changes["diagnoses"] = correction.diagnoses
    if correction.line_modifiers:
        changes["lines"] = [
            line.model_copy(update={"modifiers": correction.line_modifiers[line.line_number]})
            if line.line_number in correction.line_modifiers
            else line
            for line in encounter.lines
        ]
    return encounter.model_copy(update=changes)


# What a correctable denial asks of the team, by X12 CARC: (the code's meaning, what to fix).
# The meanings are X12's CARC list (x12.org, External Code Source 139); the fixes are the
# engine's work instructions (industry practice; configurable).
CARC_FIXES: dict[str, tuple[str, str]] = {
    "4": ("the procedure code is inconsistent with the modifier used or a required modifier "
          "is missing", "correct the lines' modifiers (line_modifiers)"),
    "5": ("the procedure code/type of bill is inconsistent with the place of service",
          "check the place of service against the procedure codes, then correct the claim"),
    "11": ("the diagnosis is inconsistent with the procedure",
           "review the coding and correct the diagnoses (diagnoses)"),
    "16": ("claim/service lacks information or has submission/billing error(s)",
           "supply what the remark codes name"),
    "31": ("patient cannot be identified as our insured",
           "verify the member id and demographics with the payer (270/271), then resubmit"),
    "167": ("this (these) diagnosis(es) is (are) not covered",
            "review the diagnoses (diagnoses); appeal if they are right"),
}  # fmt: skip
# RARC -> (its meaning, what to fix) (X12 External Code Source 411, x12.org).
RARC_FIXES: dict[str, tuple[str, str]] = {
    "N290": ("missing/incomplete/invalid rendering provider primary identifier",
             "give the rendering provider's NPI (rendering_provider_npi)"),
}  # fmt: skip
# A 277CA rejection before adjudication (STC01 A3, A6, A7, A8: ASC X12 005010X214).
FRONT_END_REJECTIONS = {"A3", "A6", "A7", "A8"}


def what_to_fix(decision: DenialDecision) -> str:
    """What the team must fix for a correctable denial, from its CARC and RARCs (or the
    277CA's rejection), in the words a worklist task carries."""
    code = decision.reason_code
    if code in FRONT_END_REJECTIONS:
        return (
            f"277CA {code}: the payer's front end rejected the claim before adjudication "
            f"({decision.explanation}); fix what it names and resubmit as an original"
        )
    parts = []
    meaning, fix = CARC_FIXES.get(code, ("", "read the CARC and remark codes on the 835"))
    parts.append(f"CARC {code}" + (f" ({meaning})" if meaning else "") + f": {fix}")
    for remark in decision.remarks:
        known = RARC_FIXES.get(remark)
        if known:
            parts.append(f"RARC {remark} ({known[0]}): {known[1]}")
        else:
            parts.append(f"RARC {remark}: read the remark on the 835 and fix what it names")
    return "; ".join(parts)
