"""Imports point one way.

Between the packages: collectors/ and forecasting/ never import monitor/ (nor each other).  Inside monitor/, from
the bottom up (docs/architecture.md): core -> store -> indicators | ingest -> stages -> entries; a module imports
only its own layer and the layers below it.  And no import cycle anywhere, lazy imports (inside functions)
included: only imports under ``if TYPE_CHECKING:`` (never executed) are left out.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"collectors": {"monitor", "forecasting"}, "forecasting": {"monitor", "collectors"}}

#: The layers inside monitor/, each with the layers it may import (its own included).  A module's layer is that
#: of the longest prefix listed in LAYER_OF; the package itself (the analyst's front door) is an entry, and
#: anything else not listed is a stage module.
LAYERS: dict[str, set[str]] = {
    "core": {"core"},
    "store": {"core", "store"},
    "indicators": {"core", "indicators"},
    "ingest": {"core", "store", "ingest"},
    "stages": {"core", "store", "indicators", "ingest", "stages"},
    "entries": {"core", "store", "indicators", "ingest", "stages", "entries"},
}
LAYER_OF: dict[str, str] = {
    "monitor.exceptions": "core",
    "monitor.settings": "core",
    "monitor.periods": "core",
    "monitor.reference": "core",
    "monitor.calendar": "core",
    "monitor.textout": "core",
    "monitor.store": "store",
    "monitor.indicators": "indicators",
    "monitor.ingest": "ingest",
    "monitor.__main__": "entries",
    "monitor.api": "entries",
    "monitor.cli": "entries",
    "monitor.demo.runner": "entries",
    "monitor.scheduling": "entries",
    "monitor.web": "entries",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _modules(package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package), without the Alembic migration scripts."""
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in parts:
            continue
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


@functools.cache
def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (at the top or inside a function)."""
    modules = _modules(package)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in _runtime_nodes(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {resolve(a.name) for a in node.names if a.name.split(".")[0] == package}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    full = ".".join(base + ([node.module] if node.module else []))
                else:
                    full = node.module or ""
                if full.split(".")[0] != package:
                    continue
                for alias in node.names:
                    sub = f"{full}.{alias.name}"
                    targets.add(sub if sub in modules else resolve(full))
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> str:
    if module == "monitor":
        return "entries"
    name = module
    while name:
        if name in LAYER_OF:
            return LAYER_OF[name]
        name = name.rpartition(".")[0]
    return "stages"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upwards(package):
    files = list((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        bad = _imports(path) & FORBIDDEN[package]
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("package", ["monitor", "collectors", "forecasting"])
def test_no_import_cycle(package):
    found = cycles(import_graph(package))
    assert not found, f"import cycles in {package}/: {found}"


def test_layers_inside_monitor_import_only_downwards():
    graph = import_graph("monitor")
    bad = sorted(f"{a} ({layer(a)}) imports {b} ({layer(b)})" for a, targets in graph.items() for b in targets
                 if layer(b) not in LAYERS[layer(a)])
    assert not bad, "\n".join(bad)


def test_the_checks_see_what_they_guard():
    """The graph resolves relative, nested and lazy imports, and the cycle finder finds a planted cycle."""
    graph = import_graph("monitor")
    assert "monitor.store.locks" in graph["monitor.alerts.scan"]  # `from ..store.locks import exclusive`
    assert "monitor.store.models" in graph["monitor.store.core"]  # `from . import models as m`
    assert "monitor.pipeline" in graph["monitor.scheduling"]  # a lazy import inside a job function
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("monitor.store.locks") == "store" and layer("monitor.alerts.scan") == "stages"
    assert layer("monitor") == "entries" and layer("monitor.settings") == "core"


def test_monitor_uses_only_the_public_collectors():
    """Ingest reads files through the collector registry; private collector modules stay inside collectors/."""
    bad = []
    for path in (ROOT / "monitor").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            bad += [f"{path.relative_to(ROOT)}: {n}" for n in names
                    if n.startswith("collectors.") and any(part.startswith("_") for part in n.split(".")[1:])]
    assert not bad, bad


def test_nothing_reads_the_shared_folder():
    for package in ("monitor", "collectors", "forecasting"):
        for path in (ROOT / package).rglob("*.py"):
            assert "../shared" not in path.read_text("utf-8"), path


# ------------------------------------------------------------------------------------------------ SQL in the store
#: SQL text: a statement keyword followed by what makes it a statement (so prose such as "select a month" passes).
SQL_TEXT = re.compile(r"\b(SELECT\s+(DISTINCT\s+)?[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                      r"CREATE\s+(TEMP\s+|TEMPORARY\s+)?TABLE|DROP\s+TABLE|ALTER\s+TABLE|PRAGMA\s+\w|ANALYZE\s+\w)")
#: What may be imported from SQLAlchemy outside the store: the type of a connection handed through (a caller's
#: transaction) and the exceptions to catch.  Query builders (select, insert, text, func, ...) are the store's.
ALLOWED_SQLALCHEMY = {("sqlalchemy.engine", "Connection"), ("sqlalchemy.exc", "*")}
def _outside_store() -> list[Path]:
    return [p for p in (ROOT / "monitor").rglob("*.py")
            if "store" not in p.relative_to(ROOT / "monitor").parts[:1]]


def _sql_findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.search(node.value):
            found.append(f"line {node.lineno}: SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in ("dialect", "exec_driver_sql", "raw_query"):
            found.append(f"line {node.lineno}: .{node.attr} (a dialect branch or raw SQL)")
        elif isinstance(node, ast.Name) and node.id == "raw_query":
            found.append(f"line {node.lineno}: raw_query")
        elif isinstance(node, ast.Attribute) and node.attr == "__table__":
            found.append(f"line {node.lineno}: .__table__ (a Core table: its statements belong in a store query)")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _EXECUTE
              and _connection_like(node.func.value)):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}() (a statement run on a connection)")
    return found


#: The methods that run a statement on a connection, an engine or a session.
_EXECUTE = {"execute", "exec_driver_sql", "scalar", "scalars", "executemany"}


def _connection_like(node: ast.expr) -> bool:
    """Whether an expression reads as a connection or an engine (``conn``, ``self.conn``, ``store.engine``,
    ``engine.connect()``)."""
    return bool(re.search(r"(^|\.)(conn|connection|cx|engine|session)$|\.(connect|begin)\(\)$", ast.unparse(node)))


def _query_builders(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            found += [f"{node.module}.{a.name}" for a in node.names
                      if (node.module, a.name) not in ALLOWED_SQLALCHEMY and (node.module, "*") not in ALLOWED_SQLALCHEMY]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
    return found


def test_no_sql_text_or_dialect_branch_outside_the_store():
    bad = {str(p.relative_to(ROOT)): f for p in _outside_store() if (f := _sql_findings(p))}
    assert not bad, "SQL belongs in monitor/store/ (a query module per domain): " + repr(bad)


def test_queries_are_built_only_in_the_store():
    builders = {str(p.relative_to(ROOT).with_suffix("")).replace("/", "."): b
                for p in _outside_store() if (b := _query_builders(p))}
    assert not builders, "build queries in a monitor/store/ query module and call it: " + repr(builders)


def test_the_sql_check_sees_sql():
    assert SQL_TEXT.search("SELECT DISTINCT series_key FROM series_value")
    assert SQL_TEXT.search("f\"INSERT INTO {STAGING} (a) VALUES (?)")
    assert SQL_TEXT.search("UPDATE job_run SET status = 'x'") and SQL_TEXT.search("CREATE TEMP TABLE t (a INT)")
    assert not SQL_TEXT.search("Select a month to publish") and not SQL_TEXT.search("select the rows you need")
    assert any("SQL text" in f for f in _sql_findings(ROOT / "monitor" / "store" / "survey.py"))
    store_findings = [f for p in (ROOT / "monitor" / "store").glob("*.py") for f in _sql_findings(p)]
    assert any("__table__" in f for f in store_findings) and any("conn.execute()" in f for f in store_findings)
    assert not _connection_like(ast.parse("service", mode="eval").body)
    assert _connection_like(ast.parse("self.store.engine", mode="eval").body)

# ------------------------------------------------------------------------------------------------ entries
#: What the entries (command line, analyst API, web platform, scheduler, demo runner, notebooks) call: the stage
#: functions, the store's query functions, the core (settings, exceptions, periods, textout) and the text
#: catalogues -- never a publication builder's or an indicator's insides, nor the store's schema and engine.
#: Internal modules, each with the public face to use instead.
ENTRY_FORBIDDEN: dict[str, str] = {
    "monitor.publish.": "the publication API of monitor.publish (publish, rerender, pmi_table, check, ...)",
    "monitor.alerts.": "the early-warning API of monitor.alerts (run_scan, list_events, silences, deliver, ...)",
    "monitor.ingest.": "the ingestion API of monitor.ingest (collect_paths, check_paths, collect_report, ...)",
    "monitor.indicators": "a stage function (indicators are pure functions the stages call)",
    "monitor.store.models": "a store query function (the schema is the store's)",
    "monitor.store.engine": "monitor.store (open_store, is_busy, upgrade_store)",
    "monitor.store.core": "monitor.store (Store, open_store)",
    "monitor.store.writes": "a store write function",
    "monitor.store.writelock": "a store function",
}
#: Catalogues (words, not logic) inside those packages that entries may read.
ENTRY_CATALOGUES = {"monitor.alerts.texts", "monitor.publish.texts"}
NOTEBOOKS = ROOT / "notebooks"


def _entry_files() -> list[tuple[str, Path]]:
    graph_modules = _modules("monitor")
    out = [(name, path) for name, (path, _) in graph_modules.items() if layer(name) == "entries"]
    out += [(f"notebooks.{p.stem}", p) for p in sorted(NOTEBOOKS.rglob("*.py"))]
    return out


def _notebook_sources() -> list[tuple[str, str]]:
    import json

    out = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text("utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        out.append((f"notebooks/{path.name}", "\n".join(line for line in code.splitlines()
                                                      if not line.lstrip().startswith(("%", "!")))))
    return out


@functools.cache
def _public_names(module: str) -> frozenset[str] | None:
    """The names in a module's ``__all__`` (None when it has none)."""
    path, _ = _modules("monitor")[module]
    names: set[str] = set()
    found = False
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                found = True
                value = node.value
                if isinstance(value, (ast.List, ast.Tuple)):
                    names |= {e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                elif isinstance(value, ast.Call) and ast.unparse(value) == "list(_WHERE)":
                    return None
    return frozenset(names) if found else None


def _entry_violations(name: str, source: str) -> list[str]:
    """The internal modules ``source`` (of module ``name``) imports, each with the public face to use instead."""
    modules = _modules("monitor")
    here = name if name in modules and modules[name][1] else name.rpartition(".")[0]
    bad = []
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                full = ".".join(base + ([node.module] if node.module else []))
            else:
                full = node.module or ""
            # a name imported from a package is its public face; a submodule imported from it is not
            targets = [f"{full}.{a.name}" if f"{full}.{a.name}" in modules else full for a in node.names]
        if isinstance(node, ast.ImportFrom) and full in modules and layer(full) == "stages":
            public = _public_names(full)
            bad += [f"{name} line {node.lineno}: {full}.{a.name} (not in its __all__: a stage module's insides)"
                    for a in node.names if public is not None and f"{full}.{a.name}" not in modules
                    and a.name not in public]
        for target in targets:
            if target in ENTRY_CATALOGUES:
                continue
            for prefix, instead in ENTRY_FORBIDDEN.items():
                if target.startswith(prefix) and not (prefix.endswith(".") and target == prefix[:-1]):
                    bad.append(f"{name} line {node.lineno}: {target} (use {instead})")
                    break
    return sorted(set(bad))


def test_entries_call_only_stages_and_store_queries():
    """The command line, the analyst API, the web platform, the scheduler and the notebooks reach the work through
    the stage functions and the public APIs of the stage packages, and the data through store query functions."""
    bad = []
    for name, path in _entry_files():
        bad += _entry_violations(name, path.read_text("utf-8"))
    for name, source in _notebook_sources():
        bad += _entry_violations(name, source)
    assert not bad, "entries reach into internals:\n" + "\n".join(bad)


def test_the_entry_check_sees_internals():
    assert _entry_violations("monitor.api", "from .publish.pmi import TABLE1")
    assert _entry_violations("monitor.cli._admin", "from ..store import models as m")
    assert _entry_violations("monitor.cli._app", "from ..store.engine import create_store_engine")
    assert _entry_violations("monitor.web.app", "from ..indicators.survey import respondent_weights")
    assert not _entry_violations("monitor.cli._publish", "from ..publish import publish")
    assert not _entry_violations("monitor.web.dashdata", "from ..alerts.texts import region_name")
    assert not _entry_violations("monitor.cli._stages", "from ..store import open_store")
    assert _entry_violations("monitor.api", "from .pipeline import _record")  # not in pipeline.__all__
    assert layer("monitor.web.app") == "entries" and any(n == "monitor.cli._stages" for n, _ in _entry_files())


def test_mypy_checks_every_module():
    # issue 17: `make lint` type-checks all of monitor/, forecasting/ and collectors/; no module is exempted
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    exempt = [name for name in cfg.sections() if name.startswith("mypy")
              and cfg[name].get("ignore_errors", "false").strip().lower() in ("true", "1", "yes")]
    assert exempt == [], f"setup.cfg exempts {exempt} from mypy: fix their errors instead"
    assert cfg["mypy"].get("ignore_errors", "False").strip().lower() in ("false", "0", "no")
