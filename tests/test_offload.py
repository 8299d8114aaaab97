"""The slice analysis's model fits in a helper process give the results computed here."""

from __future__ import annotations

import json

import pytest

import erranalysis
from erranalysis.stats import offload
from test_slices import table


def _doc(result) -> dict:
    doc = json.loads(result.to_json())
    doc.pop("provenance")
    return doc


@pytest.fixture(scope="module")
def frame():
    # Planted shift, weak slice and label noise: cohorts, the domain classifier and
    # label errors all have something to find.
    return table(shift=True, weak=True, noise=0.05)[0]


@pytest.fixture(scope="module")
def here(frame):
    return _doc(erranalysis.analyze(frame, goal=0.01))


def test_fits_in_a_helper_process_equal_fits_here(frame, here, monkeypatch):
    ran_here = []
    real = offload.Pending.result

    def spy(self):
        if self.helper is None or self.number is None:
            ran_here.append(self.name)
        return real(self)

    monkeypatch.setattr(offload.Pending, "result", spy)
    with offload.second_process():
        assert offload.active()
        elsewhere = _doc(erranalysis.analyze(frame, goal=0.01))
    assert not offload.active()
    assert ran_here == []
    assert elsewhere == here
    assert here["slices"]["domain_auc"] > 0.6 and here["slices"]["label_errors"]["count"] > 0


def test_a_helper_that_dies_leaves_the_fits_to_this_process(frame, here, monkeypatch):
    started = offload._Helper.start

    def start_then_die():
        helper = started()
        helper.proc.kill()
        helper.proc.wait()
        return helper

    monkeypatch.setattr(offload._Helper, "start", start_then_die)
    with offload.second_process():
        assert _doc(erranalysis.analyze(frame, goal=0.01)) == here


def test_an_error_in_a_fit_surfaces_from_this_process(monkeypatch):
    # The helper answers a failed job with "not done"; the job then runs here and its
    # own error (with its own traceback) is what the caller sees.
    with offload.second_process():
        pending = offload.run("label_errors", None, None)
        assert pending.number is not None
        assert pending.helper.result(pending.number) == (False, None)
        with pytest.raises((AttributeError, TypeError)):
            offload.run("label_errors", None, None).result()


def test_only_the_named_jobs_run():
    with pytest.raises(ValueError, match="not a job"):
        offload.run("os.system", "true")


def test_the_helper_exits_with_the_block():
    with offload.second_process():
        helper = offload._ACTIVE.get()
        assert helper is not None and helper.proc.poll() is None
    assert helper.proc.wait(timeout=10) is not None
