"""The terminal summary: headline, errors, decomposition, top findings (rich).

Rich reads ``[...]`` as markup. Text that comes from the data (class, column and
slice names, finding titles, advice, file paths, warnings) goes through :func:`_t`,
so a class called ``[bold]x`` prints as itself and ``[/]`` cannot break the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from .fmt import VERDICTS, ci_pct, ci_pts, level, pct, pts
from .result import ResultData

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}
_VERDICT_STYLE = {"material": "bold", "negligible": "dim", "too_noisy": "yellow"}


def _t(value) -> str:
    """``value`` as text with rich markup escaped: it prints literally."""
    return escape(str(value))


def print_summary(result: ResultData, json_path=None, console: Console | None = None, max_findings: int = 6,
                  reports=()) -> None:
    """Print the summary of ``result`` to the terminal."""
    console = console or Console(highlight=False)
    console.print(Panel(_t(result.headline), title="Next step", title_align="left", border_style="green"))
    verdict = result.verdict
    if verdict is not None:
        style = {"met": "green", "not_met": "bold", "cannot_tell": "yellow"}.get(verdict.status, "")
        console.print(f"[{style}]{_t(verdict.text)}[/{style}]" if style else _t(verdict.text))
    if result.comparison is not None:
        _print_comparison(result.comparison, console)

    if result.errors:
        _print_errors(result, console)
    if result.history is not None:
        h = result.history
        console.print(f"[bold]Training history[/bold] ({_t(h.source)}, {_t(h.format)}, {h.n_train} train / "
                      f"{h.n_val} val points): {_t(h.summary)}")
    _print_findings(result, console, max_findings)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {_t(w.message)}")
    if reports or json_path is not None:
        console.print()
    for path in reports:
        kind = "PDF" if str(path).lower().endswith(".pdf") else "HTML"
        console.print(f"{kind} report written to {_t(path)}", soft_wrap=True)
    if json_path is not None:
        console.print(f"JSON written to {_t(json_path)}", soft_wrap=True)


def _print_comparison(c, console: Console) -> None:
    """What changed since the previous run: its verdict line, then what moved."""
    colour = "red" if c.regression else "green" if c.improvement else "default"
    console.print(f"[{colour}]{_t(c.text)}[/{colour}]")
    moved = [f"{_t(x.name.replace('_', ' '))} {x.verdict}" for x in c.components if x.verdict in ("better", "worse")]
    if moved:
        console.print("  Terms that moved: " + ", ".join(moved))
    for what, items in (("classes", c.classes), ("slices", c.slices)):
        worse = [_t(x.name) for x in items if x.verdict == "worse"]
        better = [_t(x.name) for x in items if x.verdict == "better"]
        if worse or better:
            console.print(f"  {what.capitalize()}: worse {', '.join(worse[:6]) or 'none'}; "
                          f"better {', '.join(better[:6]) or 'none'}")
    if c.new_findings or c.resolved_findings:
        console.print(f"  Findings: {len(c.new_findings)} new, {len(c.resolved_findings)} resolved, "
                      f"{c.kept_findings} kept")
    for note in c.notes:
        console.print(f"  [dim]{_t(note)}[/dim]")



def _print_errors(result: ResultData, console: Console) -> None:
    errors = Table(title="Error per split" + ("" if result.decomposition.metric == "error" else " (balanced)"),
                   title_justify="left", show_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("split", "left"), ("error", "right"), (level(result.provenance) + " interval", "right"), ("rows", "right"))
    for col, justify in columns:
        errors.add_column(col, justify=justify)
    for name, e in result.errors.items():
        errors.add_row(_t(name), pct(e.error), ci_pct(e.ci), "—" if e.n is None else f"{e.n:,}")
    if result.decomposition.goal is not None:
        errors.add_row("goal", pct(result.decomposition.goal), "", "", style="dim")
    console.print(errors)

    dec = result.decomposition
    table = Table(title="Decomposition", title_justify="left", show_edge=False)
    columns = (("term", "left"), ("value", "right"), (level(result.provenance) + " interval", "right"),
               ("verdict", "left"))
    for col, justify in columns:
        table.add_column(col, justify=justify)
    notes = []
    for name, comp in dec.components.items():
        label = name.replace("_", " ")
        if comp is None:
            table.add_row(_t(label), "—", "", "not measurable", style="dim")
            continue
        if comp.includes:
            label += "*"
            notes.append(f"* {name.replace('_', ' ')} includes "
                         + ", ".join(i.replace("_", " ") for i in comp.includes) + " (no split separates them).")
        if comp.rows_to_resolve:
            need = ", ".join(f"{n:,} {s}" for s, n in comp.rows_to_resolve.items())
            notes.append(f"{name.replace('_', ' ')}: about {need} rows would settle it.")
        table.add_row(_t(label), pts(comp.value), ci_pts(comp.ci), VERDICTS[comp.verdict],
                      style=_VERDICT_STYLE[comp.verdict])
    console.print(table)
    for note in notes:
        console.print(f"[dim]{_t(note)}[/dim]")
    for name, how in dec.not_measurable.items():
        console.print(f"[dim]{_t(name.replace('_', ' '))} not measurable: {_t(how)}[/dim]")



def _print_findings(result: ResultData, console: Console, max_findings: int) -> None:
    if result.findings:
        console.print(f"\n[bold]Findings[/bold] ({len(result.findings)})")
        ranked = sorted(result.findings, key=lambda f: ("high", "medium", "low", "info").index(f.severity))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        for f in ranked[:max_findings]:
            style = _SEVERITY_STYLE[f.severity]
            grid.add_row(f"  [{style}]{f.severity:<6}[/{style}]", _t(f.title))
        console.print(grid)
        if len(ranked) > max_findings:
            console.print(f"  … and {len(ranked) - max_findings} more (see the JSON or the report)")
    if result.next_steps:
        console.print("\n[bold]Next steps[/bold]")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column()
        for i, step in enumerate(result.next_steps, 1):
            grid.add_row(f"  {i}.", f"[bold]{_t(step.problem)}[/bold]: {_t(step.actions[0])}")
        console.print(grid)


class progress_bar:  # noqa: N801 - used as a context manager, like open()
    """A progress bar on standard error (stage, rows read) while the rows are read.

    ``with progress_bar(enabled) as progress: analyze(..., progress=progress)``; when
    disabled (``--quiet``, or standard error is not a terminal) ``progress`` is None.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rows]}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("reading", total=None, rows="")
        return self.update

    def update(self, stage: str, done: int, total: int | None) -> None:
        if self._bar is None or self._task is None:  # disabled: nothing to show
            return
        rows = f"{done:,} / {total:,} rows" if total else f"{done:,} rows"
        self._bar.update(self._task, description=_t(stage), completed=done, total=total, rows=rows)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
