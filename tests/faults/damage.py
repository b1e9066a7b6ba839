"""What a damaged answer looks like: random bytes, X12-looking noise, a real answer cut
short. The 837's answer is JSON carrying X12 (the 999 and the 277CA), so it may also be
damaged inside a readable JSON body, where only the X12 is wrong."""

from __future__ import annotations

import json
import random
import string

_SEGMENT_IDS = ("ST", "BHT", "HL", "NM1", "TRN", "EB", "STC", "CLP", "SVC", "CAS", "DTP", "SE")


def x12_noise(rng: random.Random) -> str:
    """Text that starts like an interchange and is not one."""
    alphabet = string.ascii_uppercase + string.digits
    isa = "ISA*00*" + "".join(rng.choices(alphabet + " *", k=rng.randint(10, 90)))
    segments = [isa]
    for _ in range(rng.randint(1, 12)):
        elements = ["".join(rng.choices(alphabet, k=rng.randint(0, 9))) for _ in range(4)]
        segments.append("*".join([rng.choice(_SEGMENT_IDS), *elements]))
    return "~".join(segments) + rng.choice(["~", "", "~IEA*1"])


def garbage(rng: random.Random, json_answer: bool) -> bytes:
    """A body that is no answer: random bytes, X12 noise, or (for a JSON answer) JSON whose
    X12 is noise."""
    variants = ["bytes", "x12"] + (["json"] if json_answer else [])
    match rng.choice(variants):
        case "bytes":
            return rng.randbytes(rng.randint(1, 400))
        case "x12":
            return x12_noise(rng).encode()
        case _:
            return json.dumps({"ack_999": x12_noise(rng), "ack_277ca": x12_noise(rng)}).encode()


def cut(rng: random.Random, text: bytes) -> bytes:
    """The first part of `text`, cut somewhere past its start and before its last segment."""
    if len(text) < 8:
        return text[: len(text) // 2]
    return text[: rng.randint(1, len(text) - 6)]


def truncated(rng: random.Random, body: bytes, json_answer: bool) -> bytes:
    """The real answer cut short: the body itself, or (for the 837's JSON answer) one of the
    X12 documents inside a JSON body that still reads."""
    if json_answer and rng.random() < 0.5:
        try:
            answer = json.loads(body)
        except ValueError:
            return cut(rng, body)
        documents = [k for k, v in answer.items() if isinstance(v, str) and v]
        if documents:
            name = rng.choice(sorted(documents))
            answer[name] = cut(rng, answer[name].encode()).decode("ascii", "replace")
            return json.dumps(answer).encode()
    return cut(rng, body)
