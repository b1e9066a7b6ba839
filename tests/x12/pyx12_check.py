"""pyx12 4.0, the independent X12 validator (a dev dependency), as the tests call it."""

from __future__ import annotations

import io
import tempfile

import pyx12.params
import pyx12.x12n_document

VALIDATED = {"837", "835", "999", "277CA"}  # the transactions pyx12 has 5010 maps for


def pyx12_valid(text: str) -> bool:
    """True when pyx12 finds no error. An 835 is checked without asking for a 999 back:
    pyx12 cannot build one for it (ST03 is not used in 005010X221A1; pyx12 4.0.0 cannot build its AK2)."""
    with tempfile.NamedTemporaryFile("w", suffix=".x12", delete=False) as f:
        f.write(text)
    is_835 = "\nST*835*" in text or "~ST*835*" in text
    return pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(),
        src_file=f.name,
        fd_997=None if is_835 else io.StringIO(),
        fd_html=None,
    )
