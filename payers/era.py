"""The ERA mailbox's wire shape: 835s picked up after a cursor, as from a clearinghouse."""

from __future__ import annotations

from cob.model import Model


class EraDocument(Model):
    cursor: str  # "<mailbox>.<sequence>": a cursor from another mailbox starts from the top
    payer_id: str
    x12: str  # one 835 interchange, as the payer sent it


class EraBatch(Model):
    documents: list[EraDocument]
    more: bool  # another page follows the last cursor
