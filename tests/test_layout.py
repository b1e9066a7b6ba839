"""The shape of the house, kept by a test: which package may import which, and no import loop.

cob/            the rules: imports nothing of ours
contract/       the Temporal surface: cob only
payers/x12/     the X12 codec: cob only
payers/         the engine's payer side (client, directory): cob and the codec
payers/simulator/  the payers we pretend to be: cob and payers, never the engine
ledger/         what we remember: cob only
activities/     I/O: cob, contract, ledger, payers (not the simulator), never workflows
workflows/      orchestration: cob, contract, and the activities' classes to call them
workers/        what runs: the worker, the Temporal client, the payload codec
audit/          replaying, verifying and exporting what happened: anything below cli/
cli/            how people drive it: anything, the simulator only to serve it
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    "cob", "contract", "payers", "ledger", "activities", "workflows", "workers", "audit", "cli",
    "console",
]  # fmt: skip

# package -> the packages it may import ("payers.simulator" and "payers.x12" count apart)
ALLOWED = {
    "cob": set(),
    "contract": {"cob"},
    "payers.x12": {"cob"},
    "payers": {"cob", "payers.x12"},
    "payers.simulator": {"cob", "payers", "payers.x12"},
    "ledger": {"cob"},
    "activities": {"cob", "contract", "ledger", "payers", "payers.x12"},
    "workflows": {"cob", "contract", "activities"},
    "workers": {"cob", "contract", "ledger", "payers", "activities", "workflows"},
    "audit": {
        "cob",
        "contract",
        "ledger",
        "payers",
        "payers.x12",
        "activities",
        "workflows",
        "workers",
    },
    "cli": set(PACKAGES) | {"payers.x12", "payers.simulator"},
    # the API shares the CLI's operations (one code path each), never the simulator
    "console": set(PACKAGES) - {"console"} | {"payers.x12"},
}
SIMULATOR_STARTERS = {"cli.server", "cli.demo", "cli.terminal"}  # `cob payers serve`, the demo


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def package_of(module: str) -> str:
    for sub in ("payers.simulator", "payers.x12"):
        if module == sub or module.startswith(sub + "."):
            return sub
    return module.split(".")[0]


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in known and t != name}
    return graph


def test_each_package_imports_only_what_lies_below_it():
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in targets
        if package_of(target) != package_of(module)
        and package_of(target) not in ALLOWED[package_of(module)]
    )
    assert wrong == []


def test_the_simulator_is_started_only_by_the_cli_never_used_by_the_engine():
    users = {
        module
        for module, targets in import_graph().items()
        if package_of(module) != "payers.simulator"
        and any(package_of(t) == "payers.simulator" for t in targets)
    }
    assert users <= SIMULATOR_STARTERS


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while component[-1:] != [module]:
                component.append(stack.pop())
            if len(component) > 1:
                loops.append(sorted(component))

    for module in list(graph):
        if module not in index:
            visit(module)
    assert loops == []


def test_every_package_is_installed_with_the_project():
    """`pip install` (and so the `cob` command outside the source folder) ships only the
    packages pyproject.toml names: a new package left out works in tests and fails for users."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = config["tool"]["setuptools"]["packages"]["find"]["include"]
    missing = [p for p in PACKAGES if f"{p}*" not in included and p not in included]
    assert missing == []
