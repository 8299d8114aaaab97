"""The installed package: templates shipped in the wheel, public API, docs cover every flag."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import erranalysis
from erranalysis.resources import templates_dir

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(erranalysis.__file__).resolve().parent
INSTALLED = ROOT not in PACKAGE.parents


def test_templates_are_found():
    folder = templates_dir()
    assert (folder / "README.md").is_file()
    if INSTALLED:
        # Imported from site-packages: the wheel must carry its own copy of templates/.
        assert folder == PACKAGE / "_templates"
        shipped = sorted(p.name for p in folder.iterdir())
        source = sorted(p.name for p in (ROOT / "templates").iterdir())
        assert shipped == source


def test_ci_runs_against_the_installed_package():
    if os.environ.get("CI") != "true":
        pytest.skip("only CI is guaranteed a non-editable install")
    assert INSTALLED, f"CI imported erranalysis from the source tree ({PACKAGE}), not the installed wheel"


def test_template_dir_override(tmp_path):
    assert templates_dir(tmp_path) == tmp_path
    with pytest.raises(erranalysis.UsageError, match=r"^--template-dir must be a folder\. Got '.*nope' instead\.$"):
        templates_dir(tmp_path / "nope")


def test_public_api():
    assert callable(erranalysis.analyze)
    for name in erranalysis.__all__:
        assert hasattr(erranalysis, name)
    # Every public name loads on first use, and only those do.
    assert set(erranalysis.__all__) == {"__version__", *erranalysis._HOME}
    assert "erranalysis.analysis" not in subprocess.run(
        [sys.executable, "-c", "import sys, erranalysis.cli; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True).stdout


def test_readme_documents_every_cli_flag():
    from click.testing import CliRunner

    from erranalysis.cli import cli

    readme = (ROOT / "README.md").read_text()
    help_text = CliRunner().invoke(cli, ["report", "--help"]).stdout
    flags = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}
    missing = sorted(f for f in flags if f not in readme)
    assert not missing, f"README does not document: {missing}"
    for kind in ("data_quality", "leakage", "below_baseline", "underfitting", "overfitting", "distribution_shift",
                 "val_overfitting", "threshold", "class_imbalance", "label_shift", "confused_pair",
                 "never_predicted", "poor_calibration", "insufficient_data"):
        assert f"`{kind}`" in readme, kind


def test_docstring_examples_run():
    import doctest

    import erranalysis.analysis

    failures, tried = doctest.testmod(erranalysis.analysis)
    assert tried > 0 and failures == 0


def test_input_warnings_are_python_warnings_too():
    import pandas as pd

    frame = pd.DataFrame({"label": ["neg", "pos"], "score": [0.2, 0.7]})
    with pytest.warns(erranalysis.DataWarning, match=r"^DataFrame: 'score' is read as the probability of 'pos'"):
        r = erranalysis.analyze(frame)
    assert [w.code for w in r.warnings] == ["positive_guessed"]
