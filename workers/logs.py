"""What a worker (and the demo, which runs one) writes to its log: warnings and errors, each on
one line that says what failed and why, never patient data.

temporalio logs a failing activity ("Completing activity as failed") and a failing workflow
task with the exception's traceback, whose chained causes can carry a patient's values (a
pydantic error shows its input, an X12 error the segment). Here a record keeps its exception
as one line, its type and message (the segment or field and the rule it names), with quoted
values masked; the full failure stays in the workflow's history, for the Temporal UI. httpx's
request lines (INFO) stay out, and no request or answer body is ever logged.
"""

from __future__ import annotations

import logging
import re
import sys

from pydantic import ValidationError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# a value as repr() shows it: 'Smith', "A1"; an apostrophe inside a word (subscriber's) is not
QUOTED = re.compile(r"(?<!\w)'[^'\n]*'(?!\w)|(?<!\w)\"[^\"\n]*\"(?!\w)")
REASON_LIMIT = 300


def failure_reason(error: BaseException) -> str:
    """The exception in one line: its type and what it says, quoted values masked; for a
    pydantic error the fields and rules only (its input is the value)."""
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in error.errors(include_url=False)
        )
        said = f"{error.title}: {problems}"
    else:
        said = str(error).splitlines()[0] if str(error) else ""
    said = QUOTED.sub("'…'", said)[:REASON_LIMIT]
    return f"{type(error).__name__}: {said}" if said else type(error).__name__


class NoPatientData(logging.Filter):
    """A record's exception becomes one line of its message; the traceback and the chained
    causes are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            record.msg = f"{record.getMessage()}: {failure_reason(error)}"
            record.args = None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def configure_worker_logging(level: int = logging.WARNING) -> logging.Handler:
    """Warnings and errors to stderr, one line each, through NoPatientData. Replaces a handler
    installed by an earlier call, so it is installed once."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if any(isinstance(f, NoPatientData) for f in handler.filters):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(NoPatientData())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
