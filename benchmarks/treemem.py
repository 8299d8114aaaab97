"""Peak memory of a command and every process it forks, as total PSS.

The console command forks a renderer (and the renderer a figure helper), so the peak
RSS of one process (what ``wait4`` reports) leaves the others out, while adding their
RSS would count the pages they share after the fork twice. Proportional set size
splits shared pages between the processes that map them; this samples the sum over
the process tree every 10 ms (Linux, ``/proc/PID/smaps_rollup``).

    python benchmarks/treemem.py erranalysis report benchmarks/data/preds_100k_f32.parquet --goal 0.01 -q
"""

from __future__ import annotations

import subprocess
import sys
import time


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(x) for x in handle.read().split()]
    except OSError:
        return []


def _pss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, processes = 0.0, 0
    while proc.poll() is None:
        tree = [proc.pid]
        for pid in tree:  # grows as children are found
            tree.extend(_children(pid))
        total = sum(_pss_mb(pid) for pid in tree)
        if total > peak:
            peak, processes = total, len(tree)
        time.sleep(0.01)
    print(f"peak total PSS {peak:.0f} MB over {processes} process(es); exit code {proc.returncode}")


if __name__ == "__main__":
    main()
