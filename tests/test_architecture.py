"""The package's imports flow one way (no upward import, no cycle), and the graph in the
README is the one the code has."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_imports_flow_one_way():
    g = _script()
    graph = g.edges()
    assert g.problems(graph) == []
    # The graph is read right: a few edges that exist, at the top and inside functions.
    assert "report" in graph["output"] and "kinds" in graph["result"]
    assert {"classes", "evidence"} <= {m.split(".")[-1] for m in graph["findings"]}
    assert "spark" in graph["analysis"]  # imported inside a function


def test_an_upward_import_or_a_cycle_is_reported():
    g = _script()
    graph = {m: set(t) for m, t in g.edges().items()}
    graph["result"].add("report")
    graph["errors"].add("result")
    found = g.problems(graph)
    assert "upward import: result (result) imports report (render)" in found
    assert any(p.startswith("import cycle:") and "report" in p for p in found)
    assert "upward import: errors (foundation) imports result (result)" in found


def test_the_readme_shows_the_current_graph():
    g = _script()
    readme = (ROOT / "README.md").read_text()
    shown = readme[readme.index(g.START) + len(g.START):readme.index(g.END)].strip()
    assert shown == g.mermaid(g.edges()), "run: python scripts/import_graph.py --readme"
