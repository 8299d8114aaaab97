"""The import graph of the erranalysis package, read from its ``import`` statements.

Every module belongs to one layer, and imports flow one way: a module may import its
own layer and the layers below it, never a layer above, and no chain of imports comes
back to where it started. Imports inside functions count the same as those at the top
of a module.

    python scripts/import_graph.py             # check, then print the graph (Mermaid)
    python scripts/import_graph.py --readme    # check, then rewrite the graph in README.md

Exits 1, naming the offending imports, when an import goes up a layer or closes a cycle.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "erranalysis"
README = ROOT / "README.md"
START, END = "<!-- import-graph:start -->", "<!-- import-graph:end -->"

#: The layers, lowest first: (name, what it holds, the modules in it; "pkg.*" is every
#: module of a subpackage, the package's __init__ included).
LAYERS = [
    ("foundation", "errors, formatting, files, settings, the finding kinds",
     ["_version", "errors", "files", "fmt", "kinds", "resources", "settings"]),
    ("result", "the typed result tree", ["result.*"]),
    ("input", "reading and checking the input, streaming it in batches", ["io.*", "sources", "spark"]),
    ("statistics", "aggregates, metrics, intervals, curves, slices", ["stats.*"]),
    ("findings", "rules that turn statistics into findings; comparison with a previous run",
     ["findings.*", "compare"]),
    ("plan", "the ordered next steps and the verdict", ["advice", "verdict"]),
    ("render", "figures, HTML/PDF report, terminal summary, the public Result, MLflow logging",
     ["figures", "report", "renderer", "terminal", "output", "tracking"]),
    ("api", "analyze(), from_estimator() and the command line",
     ["analysis", "arguments", "estimator", "reference", "cli", "__init__", "__main__"]),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> int:
    for i, (_, _, members) in enumerate(LAYERS):
        for m in members:
            if module == m or (m.endswith(".*") and (module == m[:-2] or module.startswith(m[:-1]))):
                return i
    raise SystemExit(f"{module}: in no layer; add it to LAYERS in {Path(__file__).name}")


def _resolve(importer: str, is_package: bool, level: int, target: str | None) -> str:
    """The package-relative module name of ``from <level dots><target>``."""
    base = importer.split(".") if importer != "__init__" else []
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *(target.split(".") if target else [])])


def edges() -> dict[str, set[str]]:
    """module -> the package modules it imports (at any depth of the module)."""
    modules = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            found = []
            if isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    if not (node.module or "").startswith("erranalysis"):
                        continue
                    target = (node.module or "").removeprefix("erranalysis").lstrip(".")
                else:
                    target = _resolve(name, is_package, node.level, node.module)
                # "from . import report" names modules; "from .io import X" names the package.
                subs = [f"{target}.{a.name}".lstrip(".") for a in node.names]
                found += [s for s in subs if s in modules] or [target or "__init__"]
            elif isinstance(node, ast.Import):
                found += [a.name.removeprefix("erranalysis.") for a in node.names
                          if a.name.startswith("erranalysis.")]
            for target in found:
                target = target if target in modules else target.rsplit(".", 1)[0]
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def problems(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for a, targets in graph.items():
        for b in sorted(targets):
            if layer_of(b) > layer_of(a):
                out.append(f"upward import: {a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})")
    # Cycles: a depth-first search that meets a module still on its path.
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                out.append("import cycle: " + " -> ".join(path[path.index(t):] + [t]))
            elif t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return out


#: The subpackages, each drawn as one node.
SUBPACKAGES = ("result", "io", "stats", "findings")


def _node(module: str) -> str:
    """One node per subpackage, one per top-level module."""
    head = module.split(".")[0]
    return head if head in SUBPACKAGES else module


def mermaid(graph: dict[str, set[str]]) -> str:
    """The graph as a Mermaid flowchart, one box per layer (lowest at the bottom). The
    foundation is imported from everywhere: edges into it are left out."""
    nodes = sorted({_node(m) for m in graph}, key=lambda n: (layer_of(n), n))
    ident = {n: "m_" + n.strip("_") for n in nodes}
    lines = ["```mermaid", "flowchart BT"]
    for i, (layer, what, _) in enumerate(LAYERS):
        lines.append(f'  subgraph {layer}["{layer}: {what}"]')
        lines += [f'    {ident[n]}["{n}/"]' if n in SUBPACKAGES else f'    {ident[n]}["{n}"]'
                  for n in nodes if layer_of(n) == i]
        lines.append("  end")
    pairs = {(_node(a), _node(b)) for a, ts in graph.items() for b in ts}
    pairs = sorted((a, b) for a, b in pairs if a != b and layer_of(b) > 0)
    lines += [f"  {ident[a]} --> {ident[b]}" for a, b in sorted(pairs, key=lambda p: (layer_of(p[0]), p))]
    lines.append("```")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", action="store_true", help="rewrite the graph in README.md")
    args = parser.parse_args(argv)
    graph = edges()
    bad = problems(graph)
    for line in bad:
        print(line, file=sys.stderr)
    text = mermaid(graph)
    if args.readme:
        readme = README.read_text()
        a, b = readme.index(START) + len(START), readme.index(END)
        README.write_text(readme[:a] + "\n" + text + "\n" + readme[b:])
    else:
        print(text)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
