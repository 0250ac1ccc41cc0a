"""What the red-team rounds of the checker share: one step (or a few) verified alone, and the two checks run on
every case: a planted false step fails, a true control does not (and, where the case says, gets that status)."""

from __future__ import annotations

from collections.abc import Callable

from theory.derivation import Assumption, Derivation, Status, Step, verify

# name, the step (built lazily: building may itself be slow), the assumptions
Case = tuple[str, Callable[[], Step], tuple[Assumption, ...]]
# the same and the status a true control must get (None: any but FAILED)
Control = tuple[str, Callable[[], Step], tuple[Assumption, ...], Status | None]


def verify_alone(steps: Step | tuple[Step, ...], assumptions: tuple[Assumption, ...] = (), did: str = "round"
                 ) -> Status:
    """The status of a derivation made of these steps only."""
    steps = steps if isinstance(steps, tuple) else (steps,)
    return verify(Derivation(id=did, title=did, claims=(), statement=did, steps=steps,
                             assumptions=assumptions)).status


def assert_planted_fails(case: Case, did: str) -> None:
    assert verify_alone(case[1](), case[2], did) is Status.FAILED


def assert_control_holds(case: Control, did: str) -> None:
    status = verify_alone(case[1](), case[2], did)
    assert status is not Status.FAILED
    if case[3] is not None:
        assert status is case[3]
