"""The HTML report: every section present, nothing fetched from the network, and it renders in Chromium."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import numpy as np
import pytest

from tripletws import LabelModel
from tripletws.datasets import make_synthetic
from tripletws.report import GOLD_SECTIONS, SECTIONS

pytest.importorskip("matplotlib")

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="module")
def fitted():
    d = make_synthetic(8_000, 6, 3, coverage=0.4, random_state=11)
    return d, LabelModel(3).fit(d.L)


def _sections(text: str) -> list[str]:
    return re.findall(r'<section id="([a-z-]+)">', text)


def test_report_sections_and_no_external_resources(fitted, tmp_path):
    d, lm = fitted
    text = lm.report(d.L, d.y, path=tmp_path / "r.html", lf_names=list("abcdef"))
    assert _sections(text) == [*SECTIONS, *GOLD_SECTIONS]
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == text
    # inline only: in-page references (#id) and data: URIs (matplotlib's heatmap images)
    external = r"<script|<link|<img\b|<iframe|\bsrc=|href=\"(?!#|data:)|url\((?!#)"
    assert not re.search(external, text, flags=re.I)
    # accuracy, coverage, heatmaps, class balance, confidence, calibration, confusion
    assert text.count("<svg") == 7
    silent = int((d.L < 0).all(axis=1).sum())
    assert f"{silent} gold rows had no vote" in text
    without_gold = lm.report(d.L)
    assert _sections(without_gold) == list(SECTIONS)
    # the summary says what the fit chose, and its notes (escaped), as `tripletws inspect` does
    assert f"<th class='l'>fitted family</th><td>{lm.solution_.diagnostics['family']}</td>" in text
    assert all(html.escape(note) in text for note in lm.notes_)


def test_report_shows_the_dev_choice(tmp_path):
    d = make_synthetic(3_000, 6, 2, coverage=0.3, random_state=5)
    lm = LabelModel(2).fit(d.L[200:], L_dev=d.L[:200], Y_dev=d.y[:200])
    text = lm.report(d.L[200:])
    assert f"<th class='l'>dev choice</th><td>{lm.dev_choice_['chosen']} (dev accuracy" in text


def test_report_checks_its_input(fitted):
    d, lm = fitted
    with pytest.raises(ValueError, match="lf_names has 2 names for 6 LFs"):
        lm.report(d.L, lf_names=["a", "b"])
    with pytest.raises(ValueError, match="distinct and not empty"):
        lm.report(d.L, lf_names=["a", "b", "c", "d", "e", ""])
    with pytest.raises(ValueError, match="fitted on 6"):
        lm.report(d.L[:, :5])


def test_report_names_the_lfs_of_a_named_fit_and_no_solver_for_the_annotator():
    pd = pytest.importorskip("pandas")
    d = make_synthetic(3_000, 5, 2, coverage=0.5, random_state=2)
    names = ["kw_refund", "regex_url", "len_short", "caps", "emoji"]
    lm = LabelModel(2).fit(pd.DataFrame(d.L, columns=names))
    text = lm.report(d.L)
    assert all(name in text for name in names)
    assert "<th class='l'>model</th><td>annotator</td>" in text


def test_report_without_matplotlib_fails_before_the_work(fitted, monkeypatch):
    import sys

    d, lm = fitted
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    monkeypatch.setattr(lm, "intervals_", None, raising=False)
    calls = []
    import tripletws.intervals as intervals

    monkeypatch.setattr(intervals, "bootstrap_intervals", lambda *a, **k: calls.append(1))
    with pytest.raises(ImportError, match=r"tripletws\[report\]"):
        lm.report(d.L)
    assert calls == []  # no bootstrap before the error


def test_cli_report(fitted, tmp_path):
    from test_cli import run_main

    d, lm = fitted
    model, L, y = tmp_path / "m.json", tmp_path / "L.npy", tmp_path / "y.npy"
    lm.save(model)
    np.save(L, d.L)
    np.save(y, d.y)
    out = tmp_path / "report.html"
    res = run_main("report", model, L, "--gold", y, "-o", out)
    assert res.returncode == 0, res.stderr
    assert "wrote" in res.stdout
    assert _sections(out.read_text(encoding="utf-8")) == [*SECTIONS, *GOLD_SECTIONS]


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless Chromium found (Debian package 'chromium'; .ci/run installs it when it can)")


def test_report_renders_in_headless_chromium(fitted, tmp_path):
    browser = _browser()
    image = pytest.importorskip("matplotlib.image")
    d, lm = fitted
    page = tmp_path / "report.html"
    lm.report(d.L, d.y, path=page)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _sections(dom.stdout) == [*SECTIONS, *GOLD_SECTIONS]
    shot = tmp_path / "shot.png"
    res = subprocess.run(
        [browser, *flags, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    pixels = image.imread(shot)[..., :3]
    # a blank page is one colour; the report has text, bars and heatmaps
    assert pixels.std() > 0.05, f"screenshot looks blank (pixel std {pixels.std():.4f})"
    assert len(np.unique(pixels.reshape(-1, 3).round(2), axis=0)) > 50


def test_report_shows_lf_names_with_dollar_signs(fitted):
    """Matplotlib parsed "$...$" in tick labels as math: "price_$5_or_$10" raised a parser error."""
    d, model = fitted
    names = ["price_$5_or_$10", "costs $5 and $9", "c", "d", "e", "f"]
    text = model.report(d.L[:400], Y=d.y[:400], lf_names=names, n_boot=5)
    assert html.escape("price_$5_or_$10") in text


def test_report_with_all_unknown_gold_is_a_report_without_gold(fitted):
    """All -1 gold raised 'the gold labels are all -1' after the bootstrap; LFAnalysis reads it as no
    gold, and so does the report now."""
    d, model = fitted
    text = model.report(d.L[:400], Y=np.full(400, -1), n_boot=5)
    assert text == model.report(d.L[:400], n_boot=5)
