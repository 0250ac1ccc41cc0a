"""Summary tables of `hfx verify`: verdicts, per-experiment medians, published against measured.

Each table is a `SummaryTable` (a name, a caption, headers and string cells) written three ways by `hfx verify`:
Markdown (in REPORT.md), CSV (`tables/<name>.csv`, one row per row, the headers as its columns) and a booktabs
fragment (`tables/<name>.tex`: a `longtable` with `\\toprule`/`\\midrule`/`\\bottomrule`, ragged `p{}` columns
whose widths sum to `\\linewidth`; the cells are Unicode text, so the fragment is for LuaLaTeX or XeLaTeX with
`booktabs`, `longtable`, `array` and a font that has the mathematical symbols, e.g. DejaVu Serif).

Medians (`median_table`): every group summary that carries a Kaplan–Meier `StepsSummary`
(`numerics.experiments.records`): n runs, how many converged, the median steps to ε with its percentile
bootstrap interval (`numerics.stats`; a bound that is None is unbounded, written "∞"), the quartiles and the
budget; a median beyond the budget is written "> budget".  Pure: strings in, strings out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hfx.audit import ClaimVerdict
    from hfx.published import Row
    from numerics.experiments import AnyResult

_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


@dataclass(frozen=True)
class SummaryTable:
    name: str  # the file stem under tables/
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths of the .tex fragment

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.headers) or any(len(r) != len(self.headers) for r in self.rows):
            raise ValueError(f"table {self.name}: every row and the widths need {len(self.headers)} columns")

    def csv_rows(self) -> list[dict[str, str]]:
        return [dict(zip(self.headers, r, strict=True)) for r in self.rows]


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown(table: SummaryTable) -> str:
    """A GitHub Markdown table (pipes in cells escaped, newlines folded)."""
    lines = ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def latex_escape(text: str) -> str:
    """Text with LaTeX's special characters escaped (every other character is passed through as Unicode)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in " ".join(text.split()))


def booktabs(table: SummaryTable) -> str:
    """A booktabs `longtable` fragment (the module docstring says what it needs)."""
    total = sum(table.widths)
    spec = "".join(f">{{\\raggedright\\arraybackslash}}p{{\\dimexpr {w / total:.3f}\\linewidth-2\\tabcolsep\\relax}}"
                   for w in table.widths)
    head = " & ".join(f"\\textbf{{{latex_escape(h)}}}" for h in table.headers) + r" \\"
    body = [" & ".join(latex_escape(c) for c in row) + r" \\" for row in table.rows]
    return "\n".join([
        f"% {table.name}: written by hfx verify (booktabs, longtable, array; LuaLaTeX or XeLaTeX for Unicode)",
        "\\begingroup\\footnotesize",
        f"\\begin{{longtable}}{{@{{}}{spec}@{{}}}}",
        f"\\caption{{{latex_escape(table.caption)}}}\\label{{tab:{table.name}}}\\\\",
        "\\toprule", head, "\\midrule", "\\endfirsthead",
        "\\toprule", head, "\\midrule", "\\endhead",
        "\\bottomrule", "\\endfoot",
        *body,
        "\\end{longtable}",
        "\\endgroup",
        "",
    ])


def verdict_table(verdicts: Sequence[ClaimVerdict]) -> SummaryTable:
    """One row per claim: its id, section, verdict and the one-sentence reason."""
    rows = tuple((v.claim.id, v.claim.section, v.verdict.value, v.reason) for v in verdicts)
    return SummaryTable("verdicts", "Claim verdicts of the hfx audit, each with the finding that decided it",
                        ("claim", "section", "verdict", "why"), rows, (0.7, 0.9, 1.1, 6.0))


def _number(v: float | None, none: str) -> str:
    return none if v is None else f"{v:.4g}"


def _group(key: object) -> str:
    """A group key in words: `field=value` for a NamedTuple or dataclass, else its str."""
    if hasattr(key, "_asdict"):
        items = key._asdict().items()
    elif is_dataclass(key) and not isinstance(key, type):
        items = ((f.name, getattr(key, f.name)) for f in fields(key))
    else:
        return str(key)
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in items)


def median_table(results: Mapping[str, AnyResult]) -> SummaryTable:
    """Per experiment and group: n, converged, median steps to ε with its interval, quartiles, budget.

    Where an experiment ranks learning rates, only each architecture's best rate (every rate's summary is in
    `experiments/<name>.json`)."""
    from numerics.experiments.records import StepsSummary

    rows: list[tuple[str, ...]] = []
    for name, result in results.items():
        for summary in result.summaries:
            s = getattr(summary, "steps", None)
            if not isinstance(s, StepsSummary):
                continue
            best = getattr(summary, "best_lr", None)
            if best is False:  # a ranked group at another rate than its best: in experiments/<name>.json
                continue
            limited = getattr(summary, "grid_limited", None)
            mark = "" if not best else " (best rate, grid-limited)" if limited else " (best rate)"
            beyond = f"> {s.max_steps}"
            lo, hi = s.steps_median_ci
            rows.append((name, _group(summary.group) + mark, str(s.n), str(s.n_converged),
                         _number(s.steps_median, beyond),
                         f"[{_number(lo, '—')}, {_number(hi, '∞')}]" if s.n else "—",
                         f"{_number(s.steps_q25, beyond)}–{_number(s.steps_q75, beyond)}", str(s.max_steps)))
    return SummaryTable(
        "medians", "Steps to ε per experiment and group (at each architecture's best learning rate where rates are "
        "ranked): Kaplan–Meier median over n runs with its 95% percentile bootstrap interval (censored runs count "
        "at their budget)",
        ("experiment", "group", "n", "converged", "median steps", "95% interval", "quartiles", "budget"),
        tuple(rows), (1.2, 3.6, 0.4, 0.7, 0.9, 1.2, 1.2, 0.7))


def published_table(rows: Sequence[Row]) -> SummaryTable:
    """`tables/published-vs-measured`: the rows of `hfx.published` (its docstring says what each column holds)."""
    from hfx.published import table

    headers, cells = table(rows)
    return SummaryTable("published-vs-measured", "Published results against what hfx measured or derived in this run",
                        tuple(headers), tuple(tuple(c) for c in cells), (1.1, 0.8, 1.3, 2.0, 3.0, 0.8, 2.0, 1.0, 0.8))


def report_sections(tables: Sequence[SummaryTable], figures: Sequence[str], derivations: Sequence[str],
                    settings: str) -> str:
    """REPORT.md's closing sections: the published-vs-measured table in full, links to every summary table
    (CSV and .tex), every figure embedded (with its PDF and data CSV) and every derivation PDF."""
    lines = []
    for t in tables:
        if t.name == "published-vs-measured":
            lines += ["## Published against measured", "",
                      f"Measured at the {settings} settings of this run; every hfx number below was computed in it. "
                      f"Also as [CSV](tables/{t.name}.csv) and [booktabs .tex](tables/{t.name}.tex).", "",
                      markdown(t), ""]
    lines += ["## Summary tables", ""]
    lines += [f"- {t.caption}: [CSV](tables/{t.name}.csv), [booktabs .tex](tables/{t.name}.tex) ({len(t.rows)} rows)"
              for t in tables]
    lines += ["", "## Figures", ""]
    if not figures:
        lines.append("No figures in this run (no experiments were measured).")
    for name in figures:
        lines += [f"![{name}](figures/{name}.png)", "",
                  f"[{name}.pdf](figures/{name}.pdf) · data: [{name}.csv](figures/{name}.csv)", ""]
    lines += ["", "## Derivations", ""]
    lines += [f"- [{path}]({path})" for path in derivations] or ["No derivation PDFs in this run."]
    return "\n".join(lines) + "\n"
