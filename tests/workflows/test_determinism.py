"""What the workflows run must come out the same on every replay. The workers run workflows
outside the SDK's sandbox (workers/worker.py), so what the sandbox refused at run time is
refused here, before a worker runs it: the code of workflows/ and of what it calls (cob/,
contract/) reads no clock, draws no random number, does no I/O and keeps no state between
executions. (tests/workflows/test_replay.py still replays every stored history inside the
sandbox.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = sorted(
    p for folder in ("workflows", "cob", "contract") for p in (ROOT / folder).rglob("*.py")
)
# Modules whose use is the clock, chance, I/O, threads or the network.
FORBIDDEN_MODULES = {
    "random", "secrets", "time", "uuid", "os", "sys", "socket", "subprocess", "threading",
    "multiprocessing", "concurrent", "httpx", "requests", "urllib", "sqlmodel", "sqlalchemy",
    "psycopg", "sqlite3", "pathlib", "io", "tempfile", "shutil", "logging", "signal",
}  # fmt: skip
# datetime.now(), date.today(), ...: workflow.now() is the one clock (the task's start time).
CLOCK_CALLS = {"now", "utcnow", "today", "time_ns", "monotonic", "perf_counter"}
# open() and input() are I/O; hash() of a str differs from one process to the next.
FORBIDDEN_BUILTINS = {"open", "input", "exec", "eval", "breakpoint", "hash"}
# The activities a workflow schedules are named by their methods, imported but never called.
ACTIVITY_PACKAGES = ("activities",)


def findings(source: str, name: str = "<source>") -> list[str]:
    """Each place in `source` a workflow could differ between runs, as 'name:line: why'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(f"{where}: imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            root = node.module.split(".")[0]
            if root in FORBIDDEN_MODULES:
                found.append(f"{where}: imports from {node.module}")
        elif isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Attribute) and function.attr in CLOCK_CALLS:
                receiver = function.value
                if not (isinstance(receiver, ast.Name) and receiver.id == "workflow"):
                    found.append(f"{where}: reads the clock ({ast.unparse(function)}())")
            elif isinstance(function, ast.Name) and function.id in FORBIDDEN_BUILTINS:
                found.append(f"{where}: calls {function.id}()")
        elif isinstance(node, ast.Global):
            found.append(f"{where}: writes module state (global {', '.join(node.names)})")
    return found


def test_the_checker_finds_each_kind_of_difference() -> None:
    source = (
        "import random\nfrom time import monotonic\nfrom datetime import datetime, date\n"
        "def f():\n    global seen\n    return datetime.now(), date.today(), open('x'), hash('a')\n"
        "def g():\n    return workflow.now()\n"
    )
    assert [line.split(": ", 1)[1] for line in findings(source)] == [
        "imports random",
        "imports from time",
        "writes module state (global seen)",
        "reads the clock (datetime.now())",
        "reads the clock (date.today())",
        "calls open()",
        "calls hash()",
    ]


@pytest.mark.parametrize("path", CHECKED, ids=[str(p.relative_to(ROOT)) for p in CHECKED])
def test_workflow_code_is_the_same_on_every_replay(path: Path) -> None:
    assert findings(path.read_text(), str(path.relative_to(ROOT))) == []


def test_workflows_import_only_activity_names_from_the_world() -> None:
    """workflows/ imports what it schedules from activities/ (names, not calls) and nothing
    else outside the rules and the contract."""
    allowed = {"cob", "contract", "workflows", "temporalio", "pydantic", *ACTIVITY_PACKAGES}
    stdlib = {"__future__", "asyncio", "hashlib", "dataclasses", "datetime", "decimal", "enum",
              "typing", "collections", "functools", "itertools", "re", "math", "calendar"}  # fmt: skip
    strays = []
    for path in (ROOT / "workflows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            )  # fmt: skip
            for module in modules:
                if module.split(".")[0] not in allowed | stdlib:
                    strays.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module}")
    assert strays == []
