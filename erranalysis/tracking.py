"""A result logged to an MLflow run: its figures as metrics, its conclusions as tags, its report as artifacts."""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections import Counter
from collections.abc import Collection
from pathlib import Path

from .errors import UsageError
from .kinds import KINDS
from .report import Rendering
from .result import SCHEMA_VERSION, SEVERITIES, Interval, ResultData

#: The report files that can be logged, by format; each is written as ``report.<format>``.
FORMATS = ("html", "pdf", "json")

#: The longest tag value every supported MLflow takes: 5000 characters up to 2.x (8000
#: since), beyond which some versions and servers refuse the whole batch.
MAX_TAG_LENGTH = 5000

#: A prefix that is a valid start of a metric name and a valid artifact folder on every
#: platform: words of letters, digits, "_", "-" and ".", each starting with a letter,
#: digit or "_", joined by "/".
_PREFIX = re.compile(r"\w[\w.\-]*(?:/\w[\w.\-]*)*")


def metrics(result: ResultData, prefix: str = "erranalysis") -> dict[str, float]:
    """The result's figures under their metric names (the list is in
    :meth:`erranalysis.Result.log_to_mlflow`); figures that were not measured are left out."""
    out: dict[str, float | None] = {}

    def with_interval(name: str, value: float, ci: Interval | None) -> None:
        out[name] = value
        if ci is not None:
            out[f"{name}.ci_low"], out[f"{name}.ci_high"] = ci

    for split, rate in result.errors.items():
        with_interval(_key(prefix, "error", split), rate.error, rate.ci)
    evaluated = result.errors.get(result.eval_split) if result.eval_split else None
    if evaluated is not None:
        with_interval(_key(prefix, "eval_error"), evaluated.error, evaluated.ci)
    dec = result.decomposition
    out[_key(prefix, "decomposition", "goal")] = dec.goal
    out[_key(prefix, "decomposition", "gap")] = dec.gap
    for name, component in dec.components.items():
        out[_key(prefix, "decomposition", name)] = None if component is None else component.value
    # Every severity and kind is counted, zeros included, so that each run has the same names.
    severities = Counter(f.severity for f in result.findings)
    kinds = Counter(f.kind for f in result.findings)
    out[_key(prefix, "findings", "total")] = len(result.findings)
    out.update({_key(prefix, "findings", s): severities[s] for s in SEVERITIES})
    out.update({_key(prefix, "findings", "kind", k): kinds[k] for k in KINDS})
    return {name: float(v) for name, v in out.items() if v is not None and math.isfinite(v)}


def tags(result: ResultData, prefix: str = "erranalysis") -> dict[str, str]:
    """The result's headline, first problem and versions under their tag names."""
    headline = result.headline
    if len(headline) > MAX_TAG_LENGTH:
        headline = headline[:MAX_TAG_LENGTH - 1] + "…"
    out = {
        _key(prefix, "headline"): headline,
        _key(prefix, "version"): result.provenance.tool_version,
        _key(prefix, "schema_version"): SCHEMA_VERSION,
    }
    if result.next_steps:
        out[_key(prefix, "next_step")] = result.next_steps[0].problem
    for name in ("model", "model_family"):
        value = getattr(result.provenance, name)
        if value:
            out[_key(prefix, name)] = value[:MAX_TAG_LENGTH]
    return out


def log(result: ResultData, rendering: Rendering, run_id: str | None = None, *,
        artifacts: bool | Collection[str] = True, prefix: str = "erranalysis") -> str:
    """Log ``result`` to the MLflow run ``run_id`` (else the active run, else a new one),
    its report files written from ``rendering``; the run's id."""
    formats = _formats(artifacts)
    if not isinstance(prefix, str) or (prefix and not _PREFIX.fullmatch(prefix)):
        raise UsageError("prefix must be words of letters, digits, '_', '-' and '.' joined by '/', or ''. "
                         f"Got {prefix!r} instead.")
    try:
        import mlflow
        from mlflow.entities import Metric, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError("logging to MLflow needs mlflow, which is not installed.",
                         hint='pip install "erranalysis[mlflow]"') from None
    with tempfile.TemporaryDirectory(prefix="erranalysis-mlflow-") as folder:
        # The report is written before a run is started or touched: a template error
        # leaves no half-logged run behind.
        for fmt in formats:
            rendering.write(Path(folder) / f"report.{fmt}")
        if run_id is None:
            # As mlflow.log_metric does: the active run, else a new one left active.
            run_id = (mlflow.active_run() or mlflow.start_run()).info.run_id
        client = MlflowClient()
        stamp = int(time.time() * 1000)
        client.log_batch(run_id, metrics=[Metric(k, v, stamp, 0) for k, v in metrics(result, prefix).items()],
                         tags=[RunTag(k, v) for k, v in tags(result, prefix).items()])
        if formats:
            client.log_artifacts(run_id, folder, artifact_path=prefix or None)
    return run_id


def _formats(artifacts: bool | Collection[str]) -> tuple[str, ...]:
    """The report formats ``artifacts`` asks for, each once, in the order of :data:`FORMATS`."""
    if isinstance(artifacts, bool):
        return FORMATS if artifacts else ()
    chosen = [artifacts] if isinstance(artifacts, str) else artifacts
    if not isinstance(chosen, Collection) or any(f not in FORMATS for f in chosen):
        raise UsageError(f"artifacts must be True, False or some of {', '.join(map(repr, FORMATS))}. "
                         f"Got {artifacts!r} instead.")
    return tuple(f for f in FORMATS if f in chosen)


def _key(prefix: str, *parts: str) -> str:
    """A metric or tag name: ``parts`` joined by dots, under ``prefix`` when there is one."""
    return ".".join((prefix, *parts) if prefix else parts)
