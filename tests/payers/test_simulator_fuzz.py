"""Bad requests to the payer simulator over real HTTP: garbage, truncated and damaged X12,
bytes that are not text, empty and huge bodies, wrong content types, odd query strings.
Every one is answered below 500 (the client treats 5xx as the payer being down and retries),
and a refusal names the segment or field at fault."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal as D

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cob.model import PriorAuthRequest
from payers.simulator.adjudication import adjudicate
from payers.simulator.app import MAX_BODY_BYTES
from payers.simulator.plans import load_profiles
from payers.simulator.serve import RunningSimulator, start_in_thread
from payers.x12.acknowledgments import parse_277ca, parse_999
from payers.x12.claim_837p import build_837p
from payers.x12.claim_status import StatusInquiry, build_276
from payers.x12.eligibility import build_270, inquiry_for
from payers.x12.parties import MemberInquiry
from payers.x12.prior_auth_278 import build_278_request
from payers.x12.prior_auth_278 import inquiry_for as prior_auth_inquiry_for
from tests.payers.test_simulator import ACME, CLINIC, DOS, EMPL, PATIENT, claim

SENT = datetime(2026, 3, 3, 9, 0)
X12_ROUTES = ["/x12/270", "/x12/278", "/x12/837", "/x12/276"]
ADMIN_ROUTES = ["/admin/hold", "/admin/appeals", "/admin/silence", "/admin/outage", "/admin/underpay"]
FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def good_requests() -> dict[str, list[str]]:
    """One readable request per transaction (two 837s: a primary and a secondary claim)."""
    asked = inquiry_for(ACME, PATIENT, DOS, CLINIC, "T-1")
    prior_auth = PriorAuthRequest(
        encounter_id="E-1", coverage=ACME, patient=PATIENT, service_date=DOS,
        procedure_codes=["73721"], provider_npi=CLINIC.npi,
    )  # fmt: skip
    primary = claim("F1", ACME, [("99213", "200.00"), ("80053", "45.00")])
    paid = adjudicate(load_profiles()["ACME01"], primary, D("500.00"), DOS).remittance
    secondary = claim("F1", EMPL, [("99213", "200.00"), ("80053", "45.00")], sequence=2,
                      prior_remittances=[paid])  # fmt: skip
    parties = asked.model_dump(include=set(MemberInquiry.model_fields))
    status = StatusInquiry(**parties, claim_control_number="F1", charge=D("245.00"))
    return {
        "/x12/270": [build_270(asked, SENT, 11)],
        "/x12/278": [build_278_request(prior_auth_inquiry_for(prior_auth, "CLINIC"), SENT, 12)],
        "/x12/837": [build_837p(primary, SENT, 13), build_837p(secondary, SENT, 14)],
        "/x12/276": [build_276([status], SENT, 15)],
    }


GOOD = good_requests()
SEEDS = [text for texts in GOOD.values() for text in texts]
ENVELOPE_ONLY = (
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260303*0900*^*00501*"
    "000000001*0*P*:~IEA*0*000000001~"
)
NASTY: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "garbage": b"hello, payer",
    "not UTF-8": b"\xff\xfe\xfd ISA*00",
    "latin-1 name": GOOD["/x12/270"][0].replace("SMITH", "SM\xcfTH").encode("latin-1"),
    "UTF-8 name": GOOD["/x12/270"][0].replace("SMITH", "SMÏTH").encode(),
    "UTF-16": GOOD["/x12/276"][0].encode("utf-16"),
    "NUL bytes": b"ISA\x00\x00\x00" * 40,
    "JSON": b'{"payer_id": "ACME01"}',
    "JSON list": b"[1, 2, 3]",
    "only ISA": b"ISA",
    "ISA of stars": b"ISA" + b"*" * 200,
    "ISA, nothing after": ENVELOPE_ONLY[:106].encode(),
    "envelope, no group": ENVELOPE_ONLY.encode(),
    "two interchanges": (GOOD["/x12/270"][0] + GOOD["/x12/270"][0]).encode(),
    "line noise": bytes(range(256)),
    "a segment id too long": GOOD["/x12/270"][0].replace("BHT*", "BHTXXXXX*").encode(),
    "delimiter in a name": GOOD["/x12/270"][0].replace("SMITH", "SM^TH").encode(),
    "component in a name": GOOD["/x12/270"][0].replace("SMITH", "SM:TH").encode(),
    "unknown payer": GOOD["/x12/270"][0].replace("ACME01", "NOPE99").encode(),
    "huge element": GOOD["/x12/270"][0].replace("SMITH", "S" * 100_000).encode(),
    "10,000 segments": ("REF*EA*1~" * 10_000).encode(),
    **{
        f"{route} cut at {fraction}%": text[: len(text) * fraction // 100].encode()
        for route, texts in GOOD.items()
        for text in texts[:1]
        for fraction in (1, 5, 30, 50, 90, 99)
    },
    **{f"the good {route} request": texts[0].encode() for route, texts in GOOD.items()},
}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    simulator = start_in_thread(tmp_path_factory.mktemp("fuzz") / "payers.db")
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def client(running: RunningSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running.url, timeout=30) as http:
        yield http


@pytest.fixture
def http(client: httpx.Client) -> Iterator[httpx.Client]:
    """The shared simulator; what a fuzzed admin request turned on (an outage, a payer held
    or silent) is turned off again afterwards."""
    yield client
    client.post("/admin/outage", json={"requests": 0})
    for payer_id in load_profiles():
        client.post("/admin/hold", json={"payer_id": payer_id, "hold": False})
        client.post("/admin/silence", json={"payer_id": payer_id, "hold": False})


def detail(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text


@pytest.mark.parametrize("route", X12_ROUTES + ADMIN_ROUTES)
def test_every_nasty_body_is_answered_below_500_with_a_reason(route: str, http: httpx.Client):
    for name, body in NASTY.items():
        response = http.post(route, content=body)
        assert response.status_code < 500, (name, response.status_code, response.text[:300])
        if response.status_code >= 400:
            assert detail(response).strip(), (name, "a refusal without a reason")


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("empty", "the body is empty"),
        ("whitespace", "the body is empty"),
        ("not UTF-8", "byte 0 is not ASCII"),
        ("garbage", "segment ISA"),
        ("only ISA", "segment ISA"),
        ("envelope, no group", "no 837 transaction (ST01 837)"),
        ("/x12/837 cut at 50%", "segment"),
        ("unknown payer", "2100A NM109: unknown payer id NOPE99"),
    ],
)
def test_a_refused_x12_request_names_the_segment_or_what_is_missing(
    name: str, needle: str, http: httpx.Client
):
    route = "/x12/837" if "837" in name or "envelope" in name else "/x12/270"
    response = http.post(route, content=NASTY[name])
    assert 400 <= response.status_code < 500 and needle in detail(response), response.text


def test_a_body_over_the_limit_is_refused_413_before_it_is_read(http: httpx.Client):
    huge = b"ISA" + b"*" * (MAX_BODY_BYTES + 1)
    for route in X12_ROUTES + ADMIN_ROUTES:
        response = http.post(route, content=huge)
        assert response.status_code == 413, (route, response.text)
        assert f"over the limit of {MAX_BODY_BYTES} bytes" in detail(response)


def test_a_chunked_body_is_cut_off_at_the_limit(http: httpx.Client):
    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY_BYTES // 65_536 + 2):
            yield b"*" * 65_536

    response = http.post("/x12/837", content=chunks())
    assert response.status_code == 413, response.text


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "multipart/form-data; boundary=x", "application/xml",
     "application/x-www-form-urlencoded", "application/edi-x12; charset=utf-16", "nonsense"],
)  # fmt: skip
def test_a_wrong_content_type_is_never_a_500(content_type: str, http: httpx.Client):
    headers = {"Content-Type": content_type}
    for route in X12_ROUTES:
        response = http.post(route, content=GOOD[route][0], headers=headers)
        assert response.status_code < 500, (route, response.text)
    for route in ADMIN_ROUTES:
        response = http.post(route, content=b'{"payer_id": "ACME01"}', headers=headers)
        assert response.status_code < 500, (route, response.text)


def test_admin_fields_that_do_not_parse_are_named_without_echoing_the_body(http: httpx.Client):
    response = http.post("/admin/hold", content=b"\xff\xfe", headers={"Content-Type": "text/plain"})
    assert response.status_code == 422 and "\\xff" not in response.text
    response = http.post("/admin/outage", json={"requests": -1, "retry_after": 10**12})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["body", "requests"], ["body", "retry_after"],
    ]  # fmt: skip


def test_odd_era_query_strings_are_answered_or_refused_naming_the_parameter(
    http: httpx.Client,
):
    mailbox = "nomailbox"
    http.post("/x12/837", content=GOOD["/x12/837"][0])  # one 835 in the mailbox
    first = http.get("/x12/era").json()["documents"]
    if first:
        mailbox = first[0]["cursor"].split(".")[0]
    answered = [
        "cursor=%ff", "cursor=" + "x" * 10_000, "cursor=a.1.2", "cursor=.", "cursor=",
        "limit=1&limit=2", "unknown=1", f"cursor={mailbox}.1", "cursor=other.abc",
    ]  # fmt: skip
    for query in answered:
        response = http.get(f"/x12/era?{query}")
        assert response.status_code == 200, (query, response.text)
    refused = {
        "limit=abc": "limit", "limit=0": "limit", "limit=-1": "limit",
        "limit=99999999999999999999999": "limit", "limit=1e3": "limit",
        f"cursor={mailbox}.abc": "cursor", f"cursor={mailbox}.99999999999999999999999": "cursor",
        f"cursor={mailbox}.%C2%B2": "cursor", f"cursor={mailbox}.-1": "cursor",
    }  # fmt: skip
    for query, parameter in refused.items():
        response = http.get(f"/x12/era?{query}")
        assert response.status_code == 422, (query, response.text)
        assert parameter in detail(response), (query, response.text)


def test_every_route_answers_other_methods_below_500(http: httpx.Client):
    for route in [*X12_ROUTES, *ADMIN_ROUTES, "/x12/era", "/admin/claims", "/health", "/nope"]:
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
            response = http.request(method, route, content=b"ISA")
            assert response.status_code < 500, (method, route, response.status_code)


def test_a_claim_whose_npi_the_payer_cannot_take_is_rejected_in_the_277ca_naming_the_loop(
    http: httpx.Client,
):
    nine_digits = re.sub(r"(NM1\*82\*[^~]*\*XX\*)\d{10}", r"\g<1>123456789", GOOD["/x12/837"][0])
    answer = http.post("/x12/837", content=nine_digits).json()
    assert parse_999(answer["ack_999"]) == (True, [])
    (ack,) = parse_277ca(answer["ack_277ca"])
    assert (ack.accepted, ack.status_code) == (False, "A3")
    assert "rendering_provider_npi (2310B NM109) is invalid" in ack.reason


def test_a_diagnosis_pointer_to_no_diagnosis_is_a_front_end_rejection(http: httpx.Client):
    text = build_837p(claim("F9", ACME, [("99213", "200.00")]), SENT, 19)
    pointer_9 = re.sub(r"(SV1\*[^~]*\*)1~", r"\g<1>9~", text, count=1)
    (ack,) = parse_277ca(http.post("/x12/837", content=pointer_9).json()["ack_277ca"])
    assert (ack.accepted, ack.status_code) == (False, "A7")
    # STC12 free text: the 277CA turns X12 delimiters (':' among them) into spaces
    assert "line 1 SV107 diagnosis pointer 9 points to no diagnosis (HI lists 1)" in ack.reason


# --- hypothesis: the good requests damaged at random, sent to every route ---


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(SEEDS))
    segments = text.split("~")
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["drop", "duplicate", "swap", "cut", "character", "element"]))
        at = draw(st.integers(0, len(segments) - 1))
        if how == "drop" and len(segments) > 1:
            del segments[at]
        elif how == "duplicate":
            segments.insert(at, segments[at])
        elif how == "swap":
            other = draw(st.integers(0, len(segments) - 1))
            segments[at], segments[other] = segments[other], segments[at]
        elif how == "cut":
            segments[at] = segments[at][: draw(st.integers(0, len(segments[at])))]
        elif how == "character":
            pieces = list(segments[at]) or [""]
            pieces[draw(st.integers(0, len(pieces) - 1))] = draw(st.sampled_from("*:^~A9-. \n"))
            segments[at] = "".join(pieces)
        else:
            elements = segments[at].split("*")
            value = draw(st.sampled_from(
                ["", "0", "-1", "1.999", "99999999999999999999", "ABC", "20261399", "^", ":", "X" * 500]
            ) | st.text(st.characters(codec="ascii"), max_size=12))  # fmt: skip
            elements[draw(st.integers(0, len(elements) - 1))] = value
            segments[at] = "*".join(elements)
    return "~".join(segments).encode(draw(st.sampled_from(["ascii", "utf-8"])), "replace")


@settings(FUZZ, max_examples=400)
@given(body=damaged(), route=st.sampled_from(X12_ROUTES))
def test_a_damaged_request_is_answered_below_500(body: bytes, route: str, http: httpx.Client):
    response = http.post(route, content=body)
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert detail(response).strip()


@FUZZ
@given(body=st.binary(max_size=2_000), route=st.sampled_from(X12_ROUTES + ADMIN_ROUTES))
def test_random_bytes_are_answered_below_500(body: bytes, route: str, http: httpx.Client):
    assert http.post(route, content=body).status_code < 500


@FUZZ
@given(cursor=st.text(max_size=40), limit=st.text(max_size=8))
def test_random_era_parameters_are_answered_below_500(cursor: str, limit: str, http: httpx.Client):
    response = http.get("/x12/era", params={"cursor": cursor, "limit": limit})
    assert response.status_code < 500, response.text[:300]


def test_the_fixed_list_is_not_empty_and_reads_the_good_requests(http: httpx.Client):
    assert len(NASTY) > 40
    for route, texts in GOOD.items():
        for text in texts:
            assert http.post(route, content=text).status_code == 200, route


def test_every_route_the_simulator_has_is_fuzzed_here(running: RunningSimulator):
    documented = set(httpx.get(f"{running.url}/openapi.json").json()["paths"])
    fuzzed = {*X12_ROUTES, *ADMIN_ROUTES, "/x12/era", "/admin/claims", "/health"}
    assert documented == fuzzed, "a new route: add it to the lists above"
