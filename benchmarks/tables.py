"""Printing for the benchmark scripts: aligned text tables or Markdown, and counts as rates."""

from __future__ import annotations

import re


def _numeric(cells) -> bool:
    cells = [str(c) for c in cells]
    return any(re.search(r"\d", c) for c in cells) and all(re.fullmatch(r"[\d/ ().%e+-]*", c) for c in cells)


def table(title: str, header: list[str], rows: list[list], markdown: bool) -> None:
    """A table with a title; columns of counts and rates right-aligned, text left-aligned."""
    right = [i > 0 and _numeric(r[i] for r in rows) for i in range(len(header))]
    print()
    if markdown:
        print(f"**{title}**\n")
        print("| " + " | ".join(header) + " |")
        print("| " + " | ".join("---:" if r else "---" for r in right) + " |")
        for r in rows:
            print("| " + " | ".join(str(c) for c in r) + " |")
        return
    print(title)
    widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(header)]

    def line(cells):
        return "  " + "  ".join(str(c).rjust(w) if r else str(c).ljust(w)
                                for c, w, r in zip(cells, widths, right)).rstrip()

    print(line(header))
    for r in rows:
        print(line(r))


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.0%})" if b else "-"
