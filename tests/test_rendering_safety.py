"""Rendering never breaks on what the data or a template folder holds: rates of exactly
0% or 100%, markup characters in names, and templates that try to escape the sandbox."""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from rich.console import Console

import erranalysis
from erranalysis import figures, report
from erranalysis.cli import cli
from erranalysis.terminal import print_summary

from conftest import multiclass_frame

# ------------------------------------------------ slices at 0% and 100% error

SIZES = range(1, 201)
#: Groups per metadata column: two per size (0% and 100% error) plus "rest" stay
#: within the 30 categories a column is sliced into.
SIZES_PER_COLUMN = 14


def extreme_slices_frame() -> pd.DataFrame:
    """One group with 100% error and one with 0% error for every size 1..200."""
    label, pred, groups = [], [], []
    for n in SIZES:
        truth = ["a" if i % 2 else "b" for i in range(n)]
        for wrong in (True, False):
            label += truth
            pred += [{"a": "b", "b": "a"}[t] if wrong else t for t in truth]
            groups += [(n, wrong)] * n
    frame = pd.DataFrame({"label": label, "pred": pred})
    sizes = list(SIZES)
    for c in range(0, len(sizes), SIZES_PER_COLUMN):
        chunk = set(sizes[c:c + SIZES_PER_COLUMN])
        frame[f"group{c // SIZES_PER_COLUMN:02d}"] = [
            (f"all wrong {n}" if wrong else f"all right {n}") if n in chunk else "rest" for n, wrong in groups
        ]
    return frame


@pytest.fixture(scope="module")
def extreme_result():
    return erranalysis.analyze(extreme_slices_frame())


def test_slices_at_0_and_100_percent_error_render_at_every_size(extreme_result, tmp_path):
    r = extreme_result
    sizes = {(s.n, s.error) for s in r.slices.slices}
    assert {(n, 1.0) for n in SIZES} <= sizes and {(n, 0.0) for n in SIZES} <= sizes
    for s in r.slices.slices:
        assert s.ci[0] <= s.error <= s.ci[1], s
        if s.error == 0.0:
            assert s.ci[0] == 0.0, s
        if s.error == 1.0:
            assert s.ci[1] == 1.0, s
    assert "all wrong 200" in r.to_html()
    r.to_pdf(tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"


def test_error_bars_are_clipped_when_an_interval_misses_its_value():
    # Intervals that miss their value by a rounding step (or more) still draw.
    r = erranalysis.analyze(multiclass_frame(n_per_split=150, seed=3).assign(region=lambda d: d.index % 3))
    assert r.slices is not None and r.slices.slices
    off = [(0.0, (2.8e-17, 0.2)), (1.0, (0.98, 0.9999999999999999)), (0.5, (0.6, 0.7)), (0.5, (0.1, 0.2))]
    slices = [dataclasses.replace(s, error=e, ci=ci) for s, (e, ci) in zip(r.slices.slices * 4, off)]
    final = r.decomposition.final_split
    errors = dict(r.errors, **{final: dataclasses.replace(r.errors[final], ci=(r.errors[final].error + 1e-17, 1.0))})
    comps = {k: None if c is None else dataclasses.replace(c, ci=(c.value + 0.01, c.value + 0.02))
             for k, c in r.decomposition.components.items()}
    bad = dataclasses.replace(r, slices=dataclasses.replace(r.slices, slices=slices), errors=errors,
                              decomposition=dataclasses.replace(r.decomposition, components=comps))
    assert figures.slice_errors(bad).startswith("<svg")
    assert figures.decomposition(bad).startswith("<svg")
    assert figures._error_bar(1.0, (0.98, 0.9999999999999999)).tolist() == [[pytest.approx(0.02)], [0.0]]


# ------------------------------------------------- markup in the terminal summary

MARKUP_CLASSES = ["[bold]x", "a[1]", "[/]", "]"]


def markup_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 3000
    names = np.array(MARKUP_CLASSES)
    y = rng.choice(names, n)
    meta = rng.choice(["[b]v", "u"], n, p=[0.3, 0.7])
    wrong = rng.random(n) < np.where(meta == "[b]v", 0.4, 0.05) + np.where(y == "[/]", 0.3, 0.0)
    other = {"[bold]x": "]", "a[1]": "[/]", "[/]": "[bold]x", "]": "a[1]"}
    pred = np.where(wrong, [other[v] for v in y], y)
    return pd.DataFrame({"label": y, "pred": pred, "split": rng.choice(["train", "val", "test"], n),
                         "[red]col": meta})


@pytest.fixture(scope="module")
def markup_result():
    return erranalysis.analyze(markup_frame())


def test_markup_in_names_prints_literally_in_the_cli_summary(markup_result, tmp_path):
    frame = markup_frame()
    frame.to_parquet(tmp_path / "p.parquet")
    out = tmp_path / "[b]out.html"
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "p.parquet"), "-o", str(out)],
                             env={"COLUMNS": "300"}, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    stdout = res.stdout
    assert "Traceback" not in res.output
    assert "'[/]' is predicted as '[bold]x'" in stdout
    assert "[red]col = [b]v" in stdout
    assert f"HTML report written to {out}" in stdout
    r = markup_result
    ranked = sorted(r.findings, key=lambda f: ("high", "medium", "low", "info").index(f.severity))
    for f in ranked[:6]:
        assert f.title in stdout
    assert r.headline.split(".")[0] in " ".join(stdout.split())


def test_markup_in_headline_warnings_and_paths_prints_literally(markup_result):
    r = markup_result
    warning = dataclasses.replace(r.warnings[0], message="column '[/]' [bold]x") if r.warnings else None
    r = dataclasses.replace(r, headline="[/] [red]headline[/red] ]", warnings=[warning] if warning else [])
    buf = io.StringIO()
    print_summary(r, json_path="[i]r.json", reports=[Path("[/]r.html")],
                  console=Console(file=buf, width=300, highlight=False))
    text = buf.getvalue()
    assert "[/] [red]headline[/red] ]" in text
    assert "JSON written to [i]r.json" in text and "HTML report written to [/]r.html" in text
    if warning:
        assert "column '[/]' [bold]x" in text


# ------------------------------------------------------ untrusted template folders


@pytest.fixture(scope="module")
def small_result():
    return erranalysis.analyze(multiclass_frame(n_per_split=100, seed=5))


def user_templates(tmp_path: Path, headline: str) -> Path:
    folder = tmp_path / "tpl"
    (folder / "sections").mkdir(parents=True)
    (folder / "sections" / "headline.html.j2").write_text(headline)
    return folder


_ATTRIBUTE, _SIZE = "access to attribute", "a "


@pytest.mark.parametrize("template,reason", [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", _ATTRIBUTE),
    ("{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}", _ATTRIBUTE),
    ("{{ joiner.__init__.__globals__['os'].system('touch PWNED') }}", _ATTRIBUTE),
    ("{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}", _ATTRIBUTE),
    ("{{ (''|attr('__class__')).__mro__ }}{{ namespace.__init__ }}", _ATTRIBUTE),
    ("{% set x = ''.__class__ %}{{ x }}", _ATTRIBUTE),
    # Nor fill the memory.
    ("{{ 'a' * 10000000000 }}", _SIZE),
    ("{{ 10000000000 * [1] }}", _SIZE),
    ("{{ 7 ** 100000000 }}", _SIZE),
])
def test_a_template_cannot_run_code(small_result, tmp_path, monkeypatch, template, reason):
    monkeypatch.chdir(tmp_path)
    folder = user_templates(tmp_path, template)
    with pytest.raises(erranalysis.UsageError) as info:
        small_result.to_html(template_dir=folder)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{folder / 'sections' / 'headline.html.j2'}, line 1: the report template did "
                              f"something templates may not do: {reason}")
    assert not (tmp_path / "PWNED").exists()


def test_a_sandbox_escape_is_exit_2_in_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    multiclass_frame(n_per_split=100).to_parquet("p.parquet")
    folder = user_templates(tmp_path, "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}")
    res = CliRunner().invoke(cli, ["report", "p.parquet", "--template-dir", str(folder), "--format", "html"])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith(f"Error: {folder / 'sections' / 'headline.html.j2'}, line 1: ")
    assert len(res.stderr.splitlines()) == 2 and res.stderr.splitlines()[1].startswith("Hint: ")
    assert not (tmp_path / "PWNED").exists()


def test_a_harmless_sandboxed_template_still_renders(small_result, tmp_path):
    folder = user_templates(tmp_path, "<section id=\"headline\"><p>{{ headline.name | upper }} "
                                      "{{ range(3) | join(',') }} {{ '%s-%s' | format(1, 2) }}</p></section>")
    html = small_result.to_html(template_dir=folder)
    assert "0,1,2 1-2" in html


def test_a_link_out_of_the_template_folder_is_refused(small_result, tmp_path):
    secret = tmp_path / "secret.html.j2"
    secret.write_text("SECRET CONTENT")
    folder = tmp_path / "tpl"
    (folder / "sections").mkdir(parents=True)
    os.symlink(secret, folder / "sections" / "headline.html.j2")
    with pytest.raises(erranalysis.UsageError) as info:
        small_result.to_html(template_dir=folder)
    assert str(info.value) == (f"template 'sections/headline.html.j2' in the folder {folder} links to "
                               f"{secret.resolve()}, outside the folder; it is not read.")
    assert info.value.hint == "Copy the file into the template folder instead of linking to it."
    # A linked folder leads out just the same; an include through it is refused too.
    (folder / "sections" / "headline.html.j2").unlink()
    (folder / "sections" / "headline.html.j2").write_text("{% include 'out/secret.html.j2' %}")
    os.symlink(tmp_path, folder / "out")
    with pytest.raises(erranalysis.UsageError, match="'out/secret.html.j2' in the folder .* outside the folder"):
        small_result.to_html(template_dir=folder)
    # '..' is refused as a missing template, naming the including one.
    (folder / "sections" / "headline.html.j2").write_text("{% include '../secret.html.j2' %}")
    with pytest.raises(erranalysis.UsageError, match=r"includes '\.\./secret\.html\.j2', which is not in the folder"):
        small_result.to_html(template_dir=folder)


def test_a_link_inside_the_template_folder_is_followed(small_result, tmp_path):
    folder = user_templates(tmp_path, "")
    (folder / "mine.html.j2").write_text('<section id="headline"><p>LINKED HEADLINE</p></section>')
    (folder / "sections" / "headline.html.j2").unlink()
    os.symlink(folder / "mine.html.j2", folder / "sections" / "headline.html.j2")
    assert "LINKED HEADLINE" in small_result.to_html(template_dir=folder)


def test_a_missing_include_names_the_template_and_the_folder(small_result, tmp_path):
    folder = tmp_path / "my-templates"
    folder.mkdir()
    (folder / "report.html.j2").write_text("<html>\n{% include 'sections/x.html.j2' %}\n</html>")
    with pytest.raises(erranalysis.UsageError) as info:
        small_result.to_html(template_dir=folder)
    assert str(info.value) == (f"{folder / 'report.html.j2'} includes 'sections/x.html.j2', which is not in "
                               f"the folder {folder}.")
    # 'ignore missing' still ignores it.
    (folder / "report.html.j2").write_text("<html>{% include 'sections/x.html.j2' ignore missing %}</html>")
    assert small_result.to_html(template_dir=folder) == "<html></html>"


def test_a_missing_include_is_exit_2_in_the_cli(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    multiclass_frame(n_per_split=100).to_parquet("p.parquet")
    Path("my-templates/sections").mkdir(parents=True)
    Path("my-templates/sections/headline.html.j2").write_text("{% include 'sections/x.html.j2' %}")
    res = CliRunner().invoke(cli, ["report", "p.parquet", "--template-dir", "my-templates", "--format", "html"])
    assert res.exit_code == 2, res.output
    assert res.stderr == ("Error: my-templates/sections/headline.html.j2 includes 'sections/x.html.j2', which is "
                          "not in the folder my-templates.\n"
                          "Hint: Add the template to --template-dir, or fix the name that refers to it.\n")
    assert not Path("p.report.html").exists()


def test_built_in_templates_render_in_the_sandbox(small_result):
    env = report._environment(None)
    from jinja2.sandbox import SandboxedEnvironment

    assert isinstance(env, SandboxedEnvironment) and env.autoescape is True
    assert small_result.to_html().startswith("<!DOCTYPE html>")


def test_ordinary_arithmetic_still_works_in_templates(small_result, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = user_templates(tmp_path, "<p>{{ '-' * 3 }}{{ 2 ** 10 }}{{ 3 * 4 }}</p>")
    assert "<p>---102412</p>" in small_result.to_html(template_dir=folder)
