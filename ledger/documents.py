"""The ledger's copy of every X12 document exchanged with payers (ASC X12 5010), and the
ERA feed's position. Inserts only: a document, once stored, is never changed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger import tables as t
from ledger.db import in_transaction, utcnow


@dataclass(frozen=True)
class Document:
    key: str
    transaction: str
    direction: str  # sent | received
    payer_id: str
    text: str
    encounter_id: str | None = None
    claim_control_number: str | None = None
    era_cursor: str | None = None
    problem: str = ""


def _add_once(session: Session, document: Document) -> bool:
    taken = select(t.X12Document.id).where(t.X12Document.key == document.key)
    if session.exec(taken).first() is not None:
        return False
    session.add(t.X12Document(**document.__dict__, recorded_at=utcnow()))
    return True


def record_documents(engine: Engine, *, documents: list[Document]) -> None:
    """Store each document unless its key is already there (a retried write)."""

    def work(session: Session) -> None:
        for document in documents:
            _add_once(session, document)

    in_transaction(engine, work)


@dataclass(frozen=True)
class RemittanceLink:
    """Claim `claim_control_number` of `payer_id` is the `position`-th CLP of an 835."""

    position: int
    claim_control_number: str
    payer_id: str


def record_era(
    engine: Engine,
    *,
    document: Document,
    claims: list[RemittanceLink],
    provider_adjustments: list[t.ProviderAdjustment] | None = None,
) -> bool:
    """An 835, the claims of ours it carries and its provider-level adjustments (PLB), in
    one transaction; False (and nothing written) when the document was stored before. Where
    an 835 carries a claim twice (a reversal, then the corrected claim), the later CLP wins."""

    def work(session: Session) -> bool:
        if not _add_once(session, document):
            return False
        latest: dict[tuple[str, str], int] = {}
        for link in claims:
            latest[(link.claim_control_number, link.payer_id)] = link.position
        for (ccn, payer_id), position in latest.items():
            session.add(
                t.RemittanceDocument(
                    claim_control_number=ccn, payer_id=payer_id,
                    document_key=document.key, position=position,
                )
            )  # fmt: skip
        for row in provider_adjustments or []:
            session.add(t.ProviderAdjustment.model_validate(row.model_dump()))
        return True

    return in_transaction(engine, work)


def add_links(engine: Engine, *, document_key: str, claims: list[RemittanceLink]) -> list[int]:
    """Link claims of an 835 stored before that were not linked then (its payer or claims
    were not on file); the positions newly linked."""

    def work(session: Session) -> list[int]:
        added = []
        for link in claims:
            key = {"claim_control_number": link.claim_control_number, "payer_id": link.payer_id,
                   "document_key": document_key}  # fmt: skip
            if session.get(t.RemittanceDocument, key) is None:
                session.add(t.RemittanceDocument(**key, position=link.position))
                added.append(link.position)
        return added

    return in_transaction(engine, work)


def provider_adjustments(engine: Engine, payer_id: str | None = None) -> list[t.ProviderAdjustment]:
    """The provider-level account: every PLB posted, oldest first."""
    query = select(t.ProviderAdjustment)
    if payer_id is not None:
        query = query.where(t.ProviderAdjustment.payer_id == payer_id)
    with Session(engine) as session:
        rows = session.exec(query).all()
    return sorted(rows, key=lambda r: (r.paid_on, r.document_key, r.seq))


def adjustments_naming(engine: Engine, encounter_id: str) -> list[t.ProviderAdjustment]:
    """Provider-level adjustments whose reference (PLB03-2) names one of the encounter's
    claims, by our claim control number or the payer's: a recovery (WO, FB) of its payment."""
    with Session(engine) as session:
        claims = session.exec(select(t.Claim).where(t.Claim.encounter_id == encounter_id)).all()
        names = {c.claim_control_number for c in claims}
        names |= {c.payer_claim_number for c in claims if c.payer_claim_number}
        if not names:
            return []
        query = select(t.ProviderAdjustment).where(col(t.ProviderAdjustment.reference).in_(names))
        return sorted(session.exec(query).all(), key=lambda r: (r.paid_on, r.document_key, r.seq))


def claim_on_file(engine: Engine, ccn: str) -> t.Claim | None:
    with Session(engine) as session:
        return session.get(t.Claim, ccn)


def last_era_cursor(engine: Engine) -> str | None:
    """Where the last ERA pickup stopped: the cursor of the newest 835 stored from the feed."""
    with Session(engine) as session:
        query = (
            select(t.X12Document.era_cursor)
            .where(col(t.X12Document.era_cursor).is_not(None))
            .order_by(col(t.X12Document.id).desc())
            .limit(1)  # first() alone has the ORM read every 835 ever stored, at each pickup
        )
        return session.exec(query).first()


def remittance_document(
    engine: Engine, ccn: str, payer_id: str
) -> tuple[t.X12Document, int] | None:
    """The newest 835 that carries claim `ccn` from `payer_id`, and the claim's position
    among its CLPs (from 1)."""
    found = remittance_documents(engine, ccn, payer_id)
    return found[0] if found else None


def remittance_documents(
    engine: Engine, ccn: str, payer_id: str
) -> list[tuple[t.X12Document, int]]:
    """Every 835 that carries claim `ccn` from `payer_id`, newest first, with the claim's
    position among its CLPs (from 1): the first adjudication, a reversal, a corrected one."""
    with Session(engine) as session:
        query = (
            select(t.X12Document, t.RemittanceDocument.position)
            .join(t.RemittanceDocument, t.RemittanceDocument.document_key == t.X12Document.key)
            .where(
                t.RemittanceDocument.claim_control_number == ccn,
                t.RemittanceDocument.payer_id == payer_id,
            )
            .order_by(col(t.X12Document.id).desc())
        )
        return [(document, position) for document, position in session.exec(query).all()]


def documents_for(engine: Engine, encounter_id: str) -> list[t.X12Document]:
    """The encounter's documents in the order they were stored, 835s included."""
    with Session(engine) as session:
        ccns = select(t.Claim.claim_control_number).where(t.Claim.encounter_id == encounter_id)
        eras = select(t.RemittanceDocument.document_key).where(
            col(t.RemittanceDocument.claim_control_number).in_(ccns)
        )
        query = (
            select(t.X12Document)
            .where((t.X12Document.encounter_id == encounter_id) | col(t.X12Document.key).in_(eras))
            .order_by(col(t.X12Document.id))
        )
        return list(session.exec(query).all())
