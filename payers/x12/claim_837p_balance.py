"""The COB balancing rules of an 837P (005010X222A1 TR3: 2320 AMT*D, 2430 SVD notes), which
pyx12 does not check: per claim and prior payer, line SV102 = SVD02 + 2430 CAS; claim CLM02 =
AMT*D + 2320 CAS + 2430 CAS; AMT*D = the sum of SVD02 - 2320 CAS. Writing the claim:
`payers.x12.claim_837p`.
"""

from __future__ import annotations

from decimal import Decimal

from payers.x12.segments import (
    Interchange,
    Segment,
    X12Error,
    decimal_element,
    parse_interchange,
)


def check_837p_balance(document: str | Interchange | list[Segment]) -> None:
    """The COB balancing rules of the 005010X222A1 TR3 (2320 AMT*D, 2430 SVD notes), per claim and prior payer;
    raises X12Error naming the segment. `document` is an interchange (every claim of its 837s)
    or the segments of one claim (its CLM and the loops under it, as the 837P reader keeps).

    For each 2320 payer that has adjudicated the claim (AMT*D given, or 2430 lines for it):
    2320 AMT*D = sum of its 2430 SVD02 - sum of its 2320 CAS (when it has 2430 lines), and
    CLM02 = AMT*D + 2320 CAS + its 2430 CAS; each 2430: SV102 = SVD02 + that line's CAS. A 2320
    with neither (a later payer listed for information) has nothing to balance."""
    if isinstance(document, list):
        claims = [document]
    else:
        interchange = parse_interchange(document) if isinstance(document, str) else document
        claims = []
        for transaction in interchange.transactions:
            current: list[Segment] | None = None  # a claim runs from its CLM to a CLM or HL
            for s in transaction.body:
                if s.id == "CLM":
                    current = [s]
                    claims.append(current)
                elif s.id == "HL":
                    current = None
                elif current is not None:
                    current.append(s)

    def number(s: Segment, n: int) -> Decimal:  # empty is 0
        return decimal_element(s, n, empty=Decimal(0))

    def cas_total(s: Segment) -> Decimal:
        return sum((number(s, n) for n in range(3, 19, 3)), Decimal(0))

    def balance(segments: list[Segment]) -> None:
        clm = segments[0]
        payers: dict[str, dict] = {}  # 2330B payer id -> the figures of its 2320
        other: dict | None = None  # the 2320 being read (its payer id comes with 2330B)
        line: Segment | None = None
        svd: Segment | None = None
        svd_cas = Decimal(0)
        loop = "2300"

        def close_svd() -> None:
            if svd is not None and line is not None and number(line, 2) != number(svd, 2) + svd_cas:
                raise X12Error(
                    f"line charge {line[2]} (SV102) != SVD02 paid {svd[2]} + line CAS {svd_cas} for payer "
                    f"{svd[1]} (rule 1)", "SVD", svd.position)  # fmt: skip

        def close_2320() -> None:
            if other is not None and other["payer"] is None:
                raise X12Error("this 2320 (other subscriber) has no 2330B payer (NM1*PR)", "SBR",
                               other["sbr"].position)  # fmt: skip

        for s in segments[1:]:
            if s.id == "SBR":
                close_2320()
                other = {"sbr": s, "payer": None, "amt": None, "paid": Decimal(0), "claim_cas": Decimal(0),
                         "line_cas": Decimal(0), "svd": Decimal(0), "svd_count": 0}  # fmt: skip
                loop = "2320"
            elif s.id == "AMT" and s[1] == "D" and loop == "2320" and other is not None:
                other["amt"], other["paid"] = s, number(s, 2)
            elif s.id == "CAS" and loop == "2320" and other is not None:
                other["claim_cas"] += cas_total(s)
            elif s.id == "NM1" and loop in ("2320", "2330") and other is not None:
                loop = "2330"
                if s[1] == "PR":
                    other["payer"] = s[9]
                    payers[s[9]] = other
            elif s.id == "LX":
                close_2320()
                close_svd()
                other, line, svd, loop = None, None, None, "2400"
            elif s.id == "SV1":
                line = s
            elif s.id == "SVD":
                close_svd()
                svd, svd_cas, loop = s, Decimal(0), "2430"
                payer = payers.get(s[1])
                if payer is None:
                    raise X12Error(
                        f"SVD01 {s[1]} matches no 2330B payer (NM1*PR)", "SVD", s.position
                    )
                payer["svd"] += number(s, 2)
                payer["svd_count"] += 1
            elif s.id == "CAS" and loop == "2430" and svd is not None:
                svd_cas += cas_total(s)
                payers[svd[1]]["line_cas"] += cas_total(s)
            elif s.id in ("NM1", "LIN", "LQ") and loop in ("2400", "2430"):
                loop = "2400"  # a 2410, 2420 or 2440 loop: nothing in it is balanced
        close_2320()
        close_svd()
        for payer_id, p in payers.items():
            if p["amt"] is None and not p["svd_count"]:
                continue  # a payer that has not adjudicated the claim yet
            if p["amt"] is None:
                raise X12Error(f"payer {payer_id} has 2430 lines (SVD) but its 2320 has no AMT*D paid "
                               "amount", "SBR", p["sbr"].position)  # fmt: skip
            amt = p["amt"]
            if number(clm, 2) != p["paid"] + p["claim_cas"] + p["line_cas"]:
                raise X12Error(
                    f"CLM02 {clm[2]} != AMT*D {amt[2]} + 2320 CAS {p['claim_cas']} + 2430 CAS "
                    f"{p['line_cas']} for payer {payer_id} (rule 2)", "AMT", amt.position)  # fmt: skip
            if p["svd_count"] and p["paid"] != p["svd"] - p["claim_cas"]:
                raise X12Error(
                    f"AMT*D {amt[2]} != SVD02 total {p['svd']} - 2320 CAS {p['claim_cas']} for payer "
                    f"{payer_id} (rule 3)", "AMT", amt.position)  # fmt: skip

    for segments in claims:
        balance(segments)
