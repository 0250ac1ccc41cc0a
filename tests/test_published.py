"""The published-vs-measured table (`hfx.published`), the summary tables (`hfx.tables`) and the figures
`hfx verify` writes (`hfx.figures`)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from hfx.evidence import Measurements
from hfx.published import Agreement, Row, published_rows
from hfx.published.identity import printed_counterexample
from hfx.tables import SummaryTable, booktabs, latex_escape, markdown, published_table


def test_without_measurements_or_theorems_no_row_claims_agreement() -> None:
    rows = published_rows(Measurements(), [], "default")
    assert rows
    for r in rows:
        assert r.agreement in (Agreement.NOT_MEASURED, Agreement.NOT_TESTABLE), (r.source, r.where, r.agreement)
        if r.agreement is Agreement.NOT_MEASURED:
            assert "not measured in this run" in r.measured or "not verified in this run" in r.measured


def test_every_required_source_has_a_row_even_when_nothing_ran() -> None:
    rows = published_rows(Measurements(), [], "--quick")
    text = " ".join(f"{r.source} {r.where}" for r in rows)
    for needed in ("Saxe", "Eq. (11)", "Eq. (12)", "Eq. (15)", "Eq. (17)", "Arora", "Goh", "ESL", "Hardt & Ma",
                   "Eq. (2.3)", "Bartlett", "Fig. 1", "Fig. 7", "Table 6", "Table 1", "Fixup", "ReZero", "SkipInit"):
        assert needed in text, needed
    imagenet = [r for r in rows if "ImageNet" in r.quantity]
    assert imagenet and all(r.agreement is Agreement.NOT_TESTABLE for r in imagenet)


def test_the_printed_hardt_ma_counterexample_is_computed_not_typed() -> None:
    # independently: f = σ(p − 1)², p = (1 + a₁)(1 + a₂), at σ = 1, a = −½; ∂f/∂a₁ = 2σ(p − 1)(1 + a₂)
    a, sigma, ell, tau = Fraction(-1, 2), 1, 2, Fraction(1, 2)
    p = (1 + a) ** 2
    f = sigma * (p - 1) ** 2
    grad_sq = 2 * (2 * sigma * (p - 1) * (1 + a)) ** 2
    printed = 4 * ell * (1 - tau) ** (ell - 1) * sigma**2 * f
    corrected = 4 * ell * (1 - tau) ** (2 * (ell - 1)) * sigma * f
    got = printed_counterexample()
    assert tuple(Fraction(x) for x in got) == (grad_sq, printed, corrected)
    assert grad_sq < printed and grad_sq >= corrected


def test_the_hardt_ma_row_shows_the_numbers_of_a_real_check() -> None:
    import torch

    from hfx.published.identity import hardt_ma_rows
    from numerics.experiments import hardt_ma
    from numerics.experiments.params import replace_flat
    from theory.core.registry import derivation_by_id
    from theory.derivation import verify

    config = replace_flat(hardt_ma.Config(), {"seeds": 4})
    result = hardt_ma.run(config, torch.Generator().manual_seed(7))
    record = verify(derivation_by_id("hardt-ma.gradient-lower-bound-small")).record()
    (row, _, *_) = hardt_ma_rows(Measurements(hardt_ma=result), [record], "default")
    assert row.where == "Eq. (2.3)" and row.agreement is Agreement.CORRECTED
    assert row.why == "printed form false; corrected form proved"
    assert f"n = {config.width}" in row.measured and config.width > 1 and max(config.depths) > 2
    check = result.checks[0]
    assert f"on all {check.examined} samples" in row.measured
    assert f"{check.details['min_corrected_ratio']:.4f}" in row.measured


def test_markdown_escapes_pipes_and_folds_newlines() -> None:
    t = SummaryTable("x", "caption", ("a", "b"), (("1 | 2", "line\nbreak"),), (1, 1))
    lines = markdown(t).splitlines()
    assert len(lines) == 3 and lines[2] == "| 1 \\| 2 | line break |"


def test_a_table_with_a_short_row_is_refused() -> None:
    with pytest.raises(ValueError):
        SummaryTable("x", "c", ("a", "b"), (("1",),), (1, 1))


@pytest.mark.parametrize("text", ["50% & $x_1$ #2 {a} ~b^c \\d", "plain"])
def test_latex_escape_leaves_no_active_character(text: str) -> None:
    escaped = latex_escape(text)
    bare = re.sub(r"\\(textbackslash|textasciitilde|textasciicircum)\{\}|\\[&%$#_{}]", "", escaped)
    assert not set(bare) & set("\\&%$#_{}~^")


def _row(**kw: str) -> Row:
    base = dict(source="S & T, 2020", where="Eq. (1)", quantity="q_1 50%", published="‖∇f‖² ≥ 4ℓ(1 − τ)",
                measured="k* = 3 {x}", why="#1", evidence="e", settings="default")
    base.update(kw)
    return Row(agreement=Agreement.AGREES, **base)  # type: ignore[arg-type]


PREAMBLE = "\\documentclass{article}\\usepackage{fontspec}\\setmainfont{DejaVu Serif}"


def _lualatex(folder: Path, body: str) -> tuple[int, str]:
    (folder / "t.tex").write_text(PREAMBLE + body)
    run = subprocess.run(["lualatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=folder,
                         capture_output=True, text=True, timeout=240)
    log = folder / "t.log"
    return run.returncode, log.read_text(errors="replace") if log.exists() else run.stdout


def test_the_booktabs_fragment_compiles_with_every_glyph(tmp_path: Path) -> None:
    if shutil.which("lualatex") is None:
        pytest.skip("no lualatex here")
    probe = tmp_path / "probe"
    probe.mkdir()
    if _lualatex(probe, "\\begin{document}x\\end{document}\n")[0] != 0:
        pytest.skip("this lualatex cannot typeset a one-letter document (its fonts are not set up)")
    fragment = booktabs(published_table([_row(), _row(where="Fig. 1, Fig. 6")]))
    assert "\\toprule" in fragment and "\\midrule" in fragment and "\\bottomrule" in fragment
    (tmp_path / "frag.tex").write_text(fragment)
    code, log = _lualatex(tmp_path, "\\usepackage{booktabs,longtable,array}\\usepackage[margin=0.875in]{geometry}"
                          "\\begin{document}\\input{frag}\\end{document}\n")
    assert code == 0, log[-2000:]
    assert "Missing character" not in log


def test_published_table_csv_has_one_row_per_result() -> None:
    t = published_table(published_rows(Measurements(), [], "default"))
    rows = t.csv_rows()
    assert len(rows) == len(t.rows) and set(rows[0]) == set(t.headers)
    assert {"published", "hfx", "agreement", "why"} <= set(t.headers)


def test_figures_are_publication_grade() -> None:
    from matplotlib.text import Text

    from hfx.figures import COLUMN, MIN_POINTS, figure_data, publish, render, style
    from numerics.plots_dynamics import hardt_ma_ratios

    rng = np.random.default_rng(3)
    sigma, corrected, printed = rng.uniform(0.5, 2, 12), rng.uniform(1, 3, 12), rng.uniform(0.1, 3, 12)
    depth = np.repeat([3, 4], 6)
    with style():
        fig = publish(hardt_ma_ratios(sigma, corrected, printed, depth))
    assert float(fig.get_size_inches()[0]) == COLUMN
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert texts and all(float(t.get_fontsize()) >= MIN_POINTS for t in texts)
    assert not [t.get_text() for t in texts if "_" in re.sub(r"\$[^$]*\$", "", t.get_text())]
    assert any("$" in t.get_text() for t in texts)  # mathtext labels
    pdf = render(fig, "pdf")
    assert b"/Type3" not in pdf and b"/FontType 3" not in pdf
    import pypdf

    fonts = [f.get_object() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
             for f in page["/Resources"]["/Font"].values()]
    assert fonts and all(f["/Subtype"] == "/Type0" for f in fonts)
    assert all(d.get_object()["/Subtype"] == "/CIDFontType2" for f in fonts for d in f["/DescendantFonts"])
    assert any("Serif" in str(f["/BaseFont"]) for f in fonts)
    # the CSV beside it holds the points drawn
    data = figure_data(fig)
    drawn = sorted((float(r["x"]), float(r["y"])) for r in data if r["kind"] == "points")
    assert drawn == sorted([*zip(sigma, corrected, strict=True), *zip(sigma, printed, strict=True)])
    text = io.StringIO()
    csv.DictWriter(text, ["panel", "series", "kind", "x", "y"]).writerows(data)
    assert text.getvalue()


def test_the_degradation_studys_patterns_replace_only_the_rows_they_measure() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Found:
        source: str = "He et al. 2016, Fig. 7"
        quantity: str = "layer responses"
        published: str = "smaller in ResNets"
        measured: str = "residual 0.12 vs plain 0.40 (median std)"
        setting: str = "MLP, digits, 3 seeds"
        reproduced: bool | None = True
        why: str = "residual responses are smaller at every depth"

    before = published_rows(Measurements(), [], "default", patterns=())
    after = published_rows(Measurements(), [], "default", patterns=[Found()])
    fig7 = [r for r in after if "Fig. 7" in r.where]
    assert len(fig7) == 1 and fig7[0].agreement is Agreement.AGREES
    assert "0.12" in fig7[0].measured and "3 seeds" in fig7[0].measured
    assert len(after) == len(before)  # Fig. 7's pending row replaced, every other row kept
    assert any("Table 6" in r.where and r.agreement is Agreement.NOT_MEASURED for r in after)


def test_a_row_that_disagrees_never_gives_the_reason_for_agreeing() -> None:
    import dataclasses

    from hfx.published.linear import goh_rows
    from numerics.experiments import CheckStatus, linear_block, run
    from numerics.experiments.params import replace_flat

    result = run(linear_block, replace_flat(linear_block.Config(), {"seeds": 1, "lr_factors": (0.3, 1.2), "seed": 2}))
    good = goh_rows(result, "default")
    assert all(r.agreement is Agreement.AGREES for r in good)
    broken = dataclasses.replace(result, checks=tuple(
        dataclasses.replace(c, mismatches=c.examined or 1) for c in result.checks))
    assert all(c.status is CheckStatus.FAILED for c in broken.checks if c.examined)
    for ok, bad in zip(good, goh_rows(broken, "default"), strict=True):
        assert bad.agreement is Agreement.DISAGREES and bad.why != ok.why


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no pdflatex here")
def test_the_booktabs_longtable_compiles_across_pages_without_overfull_boxes(tmp_path: Path) -> None:
    reason = "a long reason with 50% & $x_1$ and #2 {braces} ~tilde^caret back\\slash " * 3
    table = SummaryTable("x", "Caption 50% & more", ("claim", "why"),
                         tuple((f"C{i}", reason) for i in range(40)), (1, 5))
    (tmp_path / "frag.tex").write_text(booktabs(table))
    (tmp_path / "t.tex").write_text("\\documentclass{article}\\usepackage{booktabs,longtable,array}"
                                    "\\usepackage[margin=0.875in]{geometry}\\begin{document}\\input{frag}"
                                    "\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=240)
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert "Overfull" not in log
    assert re.search(r"Output written on t\.pdf \(([2-9]|\d\d+) pages", log)  # the table breaks across pages


def test_a_pattern_measured_without_a_fair_comparison_is_inconclusive_not_untestable() -> None:
    from types import SimpleNamespace

    from hfx.published import pattern_row

    def pattern(reproduced: bool | None) -> SimpleNamespace:
        return SimpleNamespace(source="He et al. 2016, Fig. 1", quantity="training error", published="plain-56 worse",
                               measured="plain-56 77.0% vs plain-20 43.0%", setting="digits", reproduced=reproduced,
                               why="not a fair comparison: plain-20 did not plateau")

    assert pattern_row(pattern(None), "default").agreement is Agreement.INCONCLUSIVE  # type: ignore[arg-type]
    assert pattern_row(pattern(True), "default").agreement is Agreement.AGREES  # type: ignore[arg-type]
    assert pattern_row(pattern(False), "default").agreement is Agreement.DISAGREES  # type: ignore[arg-type]


def test_the_he_decay_row_gives_the_closed_form_and_the_measured_deviation() -> None:
    """The decay factor per step is 1 − ηλ to ~1e-9: a min–max range printed to six digits collapsed to
    '0.995000–0.995000'. The row now names the closed-form factor and the largest measured deviation from it."""
    import torch

    from hfx.published.identity import he_rows
    from numerics.experiments import branch_norms
    from numerics.experiments.params import replace_flat

    config = replace_flat(branch_norms.Config(), {"seeds": 2, "activations": ("tanh",), "max_steps": 400})
    result = branch_norms.run(config, torch.Generator().manual_seed(3))
    row = next(r for r in he_rows(Measurements(branch_norms=result), [], "default") if r.where == "§3.1")
    pairs = [(x.decay_factor, x.predicted_decay_factor) for x in result.records
             if x.predicted_decay_factor is not None and x.decay_factor]
    assert pairs
    lam = [w for w in config.weight_decays if w > 0]
    closed = sorted({1 - config.lr * w for w in lam})
    assert f"1 − ηλ = {', '.join(f'{q:g}' for q in closed)}" in row.measured
    assert f"within {max(abs(f - q) for f, q in pairs):.1e}" in row.measured
    assert "–" not in row.measured.split("1 − ηλ")[1].split("(")[0]


def test_the_he_row_is_inconclusive_when_no_run_without_decay_fitted() -> None:
    """Where plain GD stops in the zero set is read from the decay-free runs that fitted F ≈ 0: with none (a
    budget far too short), the row cannot say 'partly' for a reason it did not measure."""
    import torch

    from hfx.published.identity import he_rows
    from numerics.experiments import branch_norms
    from numerics.experiments.params import replace_flat

    config = replace_flat(branch_norms.Config(), {"seeds": 2, "activations": ("tanh",), "max_steps": 3})
    result = branch_norms.run(config, torch.Generator().manual_seed(0))
    free = [s for s in result.summaries if s.group.weight_decay == 0]
    assert free and all(s.w1_ratio_median is None for s in free)  # 3 steps: nothing fits
    row = next(r for r in he_rows(Measurements(branch_norms=result), [], "default") if r.where == "§3.1")
    assert row.agreement is Agreement.INCONCLUSIVE
    assert row.measured.startswith("no run without decay fitted")
