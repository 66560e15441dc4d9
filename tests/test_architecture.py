"""The house rules of the import graph (docs/architecture.md): no cycle between packages, and
plumbing that knows no capability. Imports are read from the source (every `import`, also inside
functions, so a dependency cannot hide there); only `if TYPE_CHECKING:` blocks are skipped, as
they name types for the checker and import nothing when Podium runs."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "podium"

# Capabilities: packages that hold a part of what Podium does.
CAPABILITIES = {
    "accounts", "auth", "classes", "clients", "conference", "lobby", "notifications",
    "participants", "recordings", "rooms", "sessions", "sip", "web",
}  # fmt: skip
# Plumbing: what every capability may use, and which uses none of them.
PLUMBING = {
    "broker", "config", "connections", "db", "dbpool", "embedded", "errors", "idempotency",
    "ids", "jobs", "links", "logs", "metrics", "observe", "openapi", "outbound", "ratelimit",
    "memory", "responses", "runtime", "storage", "tasks",
    "validation",
}  # fmt: skip
# The composition root and the edge helpers may import anything (nothing imports the root).
COMPOSITION = {"app", "asgi", "cli", "dependencies"}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (name for child in node.orelse for name in _imports(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "podium":  # `from podium import idempotency`
                yield from (f"podium.{alias.name}" for alias in node.names)
            else:
                yield node.module
        yield from _imports(node)


def node_of(module: str) -> str:
    """`podium.classes.service` → `classes`; `podium.db` → `db`."""
    return module.split(".")[1]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        if "migrations" in rel.parts or rel.parts == ("podium", "__init__"):
            continue
        source = node_of(".".join(rel.parts))
        edges = graph.setdefault(source, set())
        for name in _imports(ast.parse(path.read_text(), str(path))):
            if name.startswith("podium.") and (target := node_of(name)) != source:
                edges.add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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


def test_the_graph_knows_every_module() -> None:
    assert set(package_graph()) == CAPABILITIES | PLUMBING | COMPOSITION


def test_no_cycle_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_plumbing_imports_no_capability() -> None:
    graph = package_graph()
    wrong = {p: sorted(graph[p] - PLUMBING) for p in PLUMBING if graph[p] - PLUMBING}
    assert wrong == {}


def test_nothing_imports_the_composition_root() -> None:
    """Only the entry points build the app: the ASGI factory, and the CLI (`podium worker`)."""
    graph = package_graph()
    assert {p for p, edges in graph.items() if edges & {"app", "asgi", "cli"}} == {"asgi", "cli"}


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
