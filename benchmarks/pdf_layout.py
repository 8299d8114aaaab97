"""WeasyPrint's share of the default run: the layout and paint of one report, in-process
with the fonts loaded, as printed and without its page references or dotted leaders.

The report is the analysis of ``--file``; its HTML is made once, and each variant is
laid out ``--rounds`` times, interleaved; the medians show what the PDF costs whatever
the analysis and the figures do (the floor of a default run, after the analysis).

    python benchmarks/pdf_layout.py --file benchmarks/data/preds_100k_f32.parquet --rounds 4
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import warnings

import erranalysis
from erranalysis import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", default="benchmarks/data/preds_100k_f32.parquet")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = erranalysis.analyze(args.file, goal=0.01)
    rendering = result.reports()
    html = rendering.html(screen=False)
    pdf_css = report._stylesheets(rendering.environment(), ("pdf.css",))
    report._layout(html, None, pdf_css)  # fonts and WeasyPrint's caches loaded
    no_leaders = html.replace('leader(".") ', "")
    variants = {
        "as printed": html,
        "no dotted leaders": no_leaders,
        "no leaders, no page references": re.sub(r"target-counter\(attr\(href\), page\)", '""', no_leaders),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, page in variants.items():
            start = time.perf_counter()
            report._layout(page, None, pdf_css)
            times[name].append(time.perf_counter() - start)
    print(f"{args.file}: WeasyPrint layout and paint, median of {args.rounds} interleaved rounds\n")
    for name, values in times.items():
        print(f"{name:32} {statistics.median(values):5.2f} s   ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
