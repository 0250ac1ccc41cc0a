"""Hostile command lines, round 2 (/tmp/rt3cli/hostile.py): every class found there, kept as tests.

Bad input is exit 2 with one line on stderr, before any work and with nothing written: an option given twice
with different values, `--set` of one key twice, `--seeds` against `--set seeds=`, an absurd `--jobs`, a sweep
of more points than allowed, `--out -`, the root of the file system or hfx's own source as `--out`, a folder
where hfx writes a file (or a file where it writes a folder).  Closed or full standard streams, SIGHUP and a
garbage `HFX_DEBUG` are handled as documented (hfx.console, hfx.cli, hfx.errors).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _outputs import assert_refused as _refused

from hfx.cli import main
from hfx.errors import UsageError, debug_enabled

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = str(REPO / "examples" / "residual_identity.py")
ID = "reformulation.identity-iff-zero"




# ---- options given twice, --set given twice ---------------------------------------------------------------------

TWICE = {
    "set-overridden-bad": (["run", "linear-block", "--set", "width=-4", "--set", "width=8"],
                           "width must be in [1, 4096], got -4"),
    "set-overridden-bad-list": (["run", "linear-block", "--set", "lr_factors=0.1,2000", "--set", "lr_factors=0.1"],
                                "lr_factors (every value) must be in (0, 1000], got 2000"),
    "set-last-bad": (["run", "linear-block", "--set", "width=4", "--set", "width=-4"], "got -4"),
}


@pytest.mark.parametrize("case", TWICE)
def test_an_overridden_bad_value_is_refused(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    argv, expected = TWICE[case]
    _refused(argv, expected, tmp_path, capsys)


def test_an_option_or_set_key_given_again_overrides() -> None:
    from hfx.cli import build_parser
    from hfx.sweep import build_configs
    from numerics import experiments
    from numerics.experiments.params import flat_values

    args = build_parser().parse_args(["run", "linear-block", "--seeds", "2", "--seeds", "3", "--no-figures",
                                      "--no-figures", "--out", "o", "--out=p"])
    assert args.seeds == 3 and args.out == "p"  # the last value counts (a base command line plus overrides)
    module = experiments.get("linear-block")
    (point,) = build_configs(module, ["width=3", "width= 3", "seeds=2"], 2)
    values = flat_values(point.config)
    assert values["width"] == 3 and values["seeds"] == 2
    # --set is repeatable: a later value of a key overrides an earlier one; --seeds overrides --set seeds=
    (point,) = build_configs(module, ["width=4", "width=8", "seeds=3"], 2)
    values = flat_values(point.config)
    assert values["width"] == 8 and values["seeds"] == 2
    points = build_configs(module, ["width=2,3", "width=5"], None)
    assert len(points) == 1 and flat_values(points[0].config)["width"] == 5


# ---- absurd sizes -------------------------------------------------------------------------------------------------

SIZES = {
    "jobs-verify": (["verify", "--jobs", "100000"], "--jobs must be ≤ 1024"),
    "jobs-derive": (["derive", ID, "--jobs", "9" * 30], "--jobs must be ≤ 1024"),
    "jobs-check": (["check", EXAMPLE, "--jobs", "1025"], "--jobs must be ≤ 1024"),
    "sweep-product": (["run", "linear-block", "--set", "width=" + ",".join(map(str, range(1, 301))),
                       "--set", "samples=" + ",".join(map(str, range(1000, 1301)))], "a sweep of 90,300 points"),
    "sweep-one": (["run", "branch-norms", "--set", "seed=" + ",".join(map(str, range(1001)))],
                  "a sweep of 1,001 points"),
}


@pytest.mark.parametrize("case", SIZES)
def test_an_absurd_size_is_refused_at_once(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    monkeypatch.chdir(tmp_path)
    argv, expected = SIZES[case]
    t0 = time.perf_counter()
    _refused(argv, expected, tmp_path, capsys)
    assert time.perf_counter() - t0 < 30  # counted before any configuration is built (was minutes)


# ---- output paths -------------------------------------------------------------------------------------------------


def _dir(name: str) -> object:
    def make(out: Path) -> None:
        (out / name).mkdir(parents=True)
    return make


def _file(name: str) -> object:
    def make(out: Path) -> None:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("mine")
    return make


def _dangling(name: str) -> object:
    def make(out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / name).symlink_to(out / "nowhere")
    return make


TAKEN = {
    "runs.csv-a-folder": (_dir("runs.csv"), ["run", "linear-block", "--seeds", "1"], "is not a plain file"),
    "summary.json-a-folder": (_dir("summary.json"), ["run", "branch-norms"], "is not a plain file"),
    "a-figure-a-folder": (_dir("figures/branch-norms.pdf"), ["run", "branch-norms"], "is not a plain file"),
    "REPORT.md-a-folder": (_dir("REPORT.md"), ["verify"], "is not a plain file"),
    "theorems.json-a-folder": (_dir("theorems.json"), ["check", EXAMPLE], "is not a plain file"),
    "derivations.pdf-a-folder": (_dir("derivations.pdf"), ["derive", ID], "is not a plain file"),
    "figures-a-file": (_file("figures"), ["run", "branch-norms"], "where hfx writes a folder"),
    "chunks-a-file": (_file("chunks"), ["run", "linear-block", "--seeds", "1"], "where hfx writes a folder"),
    "derivations-a-file": (_file("derivations"), ["verify"], "where hfx writes a folder"),
    "figures-dangling": (_dangling("figures"), ["run", "branch-norms"], "a dangling symbolic link"),
}


@pytest.mark.parametrize("case", TAKEN)
def test_a_name_hfx_writes_taken_by_the_wrong_kind_is_refused_before_work(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    make, argv, expected = TAKEN[case]
    out = tmp_path / "out"
    make(out)  # type: ignore[operator]
    _refused([*argv, "--out", str(out)], expected, tmp_path, capsys)


OWN = {
    "dash": ("-", "not to standard output"),
    "root": ("/", "the root of the file system"),
    "repository": (str(REPO), "hfx's own source"),
    "package": (str(REPO / "hfx"), "hfx's own source"),
    "inside-a-package": (str(REPO / "numerics" / "out"), "hfx's own source"),
    "git": (str(REPO / ".git" / "out"), "hfx's own source"),
}


@pytest.mark.parametrize("case", OWN)
@pytest.mark.parametrize("command", [["run", "linear-block", "--seeds", "1"], ["verify"], ["derive", ID]])
def test_stdout_the_root_or_hfx_source_is_not_an_output_folder(
    case: str, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], no_work: None,
) -> None:
    if case in ("repository", "git") and not (REPO / "pyproject.toml").is_file():
        pytest.skip("not a source checkout")
    monkeypatch.chdir(tmp_path)
    value, expected = OWN[case]
    assert main([*command, "--out", value]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "-").exists() and not Path("/manifest.json").exists()


def test_a_folder_named_dash_is_written_as_dot_slash_dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hfx.paths import output_dir

    monkeypatch.chdir(tmp_path)
    assert output_dir("./-") == Path("./-")


def test_a_sweep_point_folder_is_not_mistaken_for_a_file(tmp_path: Path) -> None:
    from hfx.paths import output_dir

    (tmp_path / "lr=0.5,width=3" / "figures").mkdir(parents=True)
    (tmp_path / "data_dir=cifar.json").mkdir()  # a sweep over a path: its point's folder
    (tmp_path / "tables").mkdir()
    assert output_dir(str(tmp_path)) == tmp_path


# ---- environment ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "0", "false", "No", " off ", "OFF"])
def test_hfx_debug_zero_or_false_is_off(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFX_DEBUG", value)
    assert not debug_enabled()


@pytest.mark.parametrize("value", ["1", "yes", "true", "\u00ff\n", "2"])
def test_hfx_debug_anything_else_is_on(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFX_DEBUG", value)
    assert debug_enabled()


def test_an_internal_error_under_hfx_debug_0_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from hfx import listing

    def boom(as_json: bool) -> int:
        raise RuntimeError("boom")

    monkeypatch.setenv("HFX_DEBUG", "0")
    monkeypatch.setattr(listing, "_claims", boom)
    assert main(["list", "claims"]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "boom" in err


# ---- standard streams, signals (a real process) -------------------------------------------------------------------


def _shell(command: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    hfx = f"{sys.executable} -m hfx"
    return subprocess.run(["/bin/bash", "-c", command.replace("HFX", hfx)], capture_output=True, cwd=cwd,
                          timeout=timeout)


STREAMS = {
    "list-json-stdout-closed": ("HFX list claims --json >&-", 0),
    "list-stdin-closed": ("HFX list claims <&- >/dev/null", 0),
    "help-stdout-closed": ("HFX run --help >&-", 0),
    "bad-input-all-closed": ("HFX run nope <&- >&- 2>&-", 2),
    "bad-input-stderr-full": ("HFX run linear-block --set width=-1 2>/dev/full", 2),
    "help-broken-pipe": ("HFX --help | head -c 1 >/dev/null; exit ${PIPESTATUS[0]}", 0),
    "help-stdout-full": ("HFX run --help >/dev/full", 3),
    "list-stdout-full": ("HFX list claims >/dev/full", 3),
}


@pytest.mark.parametrize("case", STREAMS)
def test_closed_full_or_broken_streams_are_no_traceback(case: str, tmp_path: Path) -> None:
    command, code = STREAMS[case]
    done = _shell(command, tmp_path, timeout=120)
    assert done.returncode == code, done.stderr
    assert b"Traceback" not in done.stderr and b"Exception ignored" not in done.stderr, done.stderr


@pytest.mark.slow
def test_a_run_with_stdout_closed_and_stderr_closed_writes_its_folder(tmp_path: Path) -> None:
    done = _shell("HFX run branch-norms --seeds 1 --set max_steps=5 --no-figures --json --out o >&- 2>&-", tmp_path)
    assert done.returncode == 0
    import json

    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["complete"] is True
    lock = tmp_path / "o" / ".hfx.lock"
    assert not lock.exists()


@pytest.mark.slow
def test_sighup_is_exit_129_with_one_line_and_an_incomplete_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "hfx", "run", "linear-block", "--seeds", "64", "--set", "chunk_seeds=1",
            "--set", "max_steps=3000", "--set", "eps=1e-300", "--no-figures", "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "chunks").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGHUP)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = [ln for ln in err.decode().splitlines() if ln.strip() and "%|" not in ln]
    assert proc.returncode == 129, err
    assert len(lines) == 1 and "hung up" in lines[0], err
    import json

    assert json.loads((out / "manifest.json").read_text())["complete"] is False


# ---- --set checked before torch (hfx.preflight) -------------------------------------------------------------------


def test_the_parameter_snapshot_is_the_declared_parameters() -> None:
    from hfx import run
    from hfx.param_schema import SCHEMA
    from hfx.preflight import MAX_PATH, live_schema
    from numerics.experiments import params

    assert live_schema() == SCHEMA, "run scripts/update_param_schema.py"
    assert tuple(SCHEMA) == run.EXPERIMENT_NAMES
    assert MAX_PATH == params.MAX_PATH


HOSTILE_VALUES = ["-1", "0", "-0", "0.5", "1e300", "-1e300", "inf", "nan", "", " ", "abc", "1.5", "[1,2]", "1_0",
                  "0x10", "9" * 30, "é" * 10, "x" * 5000, "true", "1,,2", ",", "1,", "5e-324", "2,3",
                  "9223372036854775808", "-9223372036854775809", "\n", "relu", "plain,residual", "4097", "256"]


def test_preflight_refuses_only_what_build_configs_refuses_and_says_it_the_same_way() -> None:
    """For every parameter of every experiment and hostile values: a value refused before torch is refused after
    it too, with the same line (a sweep's line names its point differently); one accepted after is accepted before."""
    from hfx import preflight
    from hfx.sweep import build_configs
    from numerics import experiments
    from numerics.experiments.params import parameters

    refused_early = 0
    for name in experiments.EXPERIMENTS:
        module = experiments.get(name)
        for p in parameters(module.Config):
            for v in HOSTILE_VALUES:
                overrides = [f"{p.name}={v}"]
                early = late = None
                try:
                    preflight.check(name, overrides, None)
                except Exception as exc:
                    early = exc
                try:
                    build_configs(module, overrides, None)
                except Exception as exc:
                    late = exc
                assert early is None or isinstance(early, UsageError), (name, p.name, v, early)
                if early is not None:
                    refused_early += 1
                    assert late is not None, f"{name} {p.name}={v!r}: refused before torch, accepted after: {early}"
                    if "," not in v:
                        assert str(early) == str(late), (name, p.name, v)
    assert refused_early > 1000  # the snapshot does refuse (most of these values are bad for most parameters)


def test_a_bad_set_value_is_refused_before_torch_is_imported(tmp_path: Path) -> None:
    code = ("import sys\nfrom hfx.cli import main\n"
            "codes = [main(['run', 'linear-block', '--set', s]) for s in "
            "['width=-1', 'Width=3', 'lr_factors=0.1,inf', 'variants=Plain', 'width=2,3,5000', 'seed=-1']]\n"
            "assert codes == [2] * 6, codes\nassert 'torch' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(done.stderr.decode().strip().splitlines()) == 6


@pytest.mark.parametrize(("raised", "code", "word"), [("KeyboardInterrupt", 130, "interrupted"),
                                                      ("Terminated(signal.SIGTERM)", 143, "terminated"),
                                                      ("Terminated(signal.SIGHUP)", 129, "hung up")])
def test_a_signal_while_the_command_line_is_imported_is_one_line(raised: str, code: int, word: str,
                                                                 tmp_path: Path) -> None:
    """The program's entry (`hfx._entry`) catches a Ctrl-C / SIGTERM / SIGHUP raised while `hfx.cli` is imported."""
    script = ("import builtins, signal, sys\nfrom hfx.errors import Terminated\nreal = builtins.__import__\n"
              "def imp(name, *a, **k):\n"
              f"    if name == 'hfx' and len(a) > 2 and a[2] and 'cli' in a[2]:\n        raise {raised}\n"
              "    return real(name, *a, **k)\n"
              "builtins.__import__ = imp\nfrom hfx._entry import main\nsys.exit(main())\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=tmp_path, timeout=60)
    err = done.stderr.decode()
    assert done.returncode == code and err.strip() == f"hfx: {word}" + (" (SIGHUP)" if code == 129 else ""), err


def test_the_console_script_starts_at_the_entry() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'hfx = "hfx._entry:main"' in text


# ---- odd but valid, and the user's module -------------------------------------------------------------------------


def test_a_leading_double_dash_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--", "list", "claims", "--json"]) == 0
    assert capsys.readouterr().out.lstrip().startswith("[")


def test_a_relative_out_in_a_deleted_folder_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert main(["run", "linear-block", "--seeds", "1", "--out", "rel"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "no longer exists" in err, err


def test_the_users_module_cannot_close_hfx_streams_or_change_ctrl_c(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(Path(EXAMPLE).read_text() + "\nimport signal, sys\nsignal.signal(signal.SIGINT, "
                      "signal.SIG_IGN)\nsys.stdout.close()\nsys.stderr.close()\n")
    done = subprocess.run([sys.executable, "-m", "hfx", "check", str(module), "--out", str(tmp_path / "o")],
                          capture_output=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert b"proved" in done.stdout and b"Traceback" not in done.stderr  # the table reached hfx's stdout
