"""The simulated payers as the HTTP app holds them: each payer's plan by payer id, their
shared file, and the switches a test flips (an outage of the next requests, payers that
stay silent after the 999)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException
from pydantic import Field

from cob.model import Model
from payers.simulator.claim_store import ClaimStore
from payers.simulator.plans import PayerProfile


class Outage(Model):
    requests: int = Field(default=1, ge=0)  # how many of the next requests answer 503
    retry_after: int = Field(default=1, ge=0, le=3600)  # seconds, sent as Retry-After


@dataclass
class Clearinghouse:
    profiles: dict[str, PayerProfile]
    store: ClaimStore
    outage: Outage = field(default_factory=lambda: Outage(requests=0))
    silent: set[str] = field(default_factory=set)  # payers whose 837s get a 999 and nothing more

    def profile_of(self, payer_id: str, where: str = "payer_id") -> PayerProfile:
        """The payer the request names at `where` (its X12 element, or the JSON field)."""
        if payer_id not in self.profiles:
            raise HTTPException(404, f"{where}: unknown payer id {payer_id[:80]}")
        return self.profiles[payer_id]
