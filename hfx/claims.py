"""The claims under audit (docs/claims.md), with their stable ids.

The text is the English rendering of the note's words; verdicts are never
stored here: they follow from the evidence (derivations and measurements).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    id: str  # stable id, C1–C13
    section: str  # where in the note
    text: str  # what the note says


CLAIMS: tuple[Claim, ...] = (
    Claim("C1", "§1", "A 56-layer plain network does worse than a 20-layer one, on training and test data."),
    Claim("C2", "§1", "Degradation is not overfitting; it is an optimisation difficulty."),
    Claim("C3", "§1", "Gradient problems in propagation, such as vanishing gradients, are behind it."),
    Claim("C4", "§1", "A deeper net is at least as good as a shallower one: the extra layers could be identity maps."),
    Claim("C5", "§1", "Making stacked non-linear layers fit H(x)=x is extremely hard for the optimiser."),
    Claim("C6", "§2", "Residual reformulation: learn F(x)=H(x)−x; the shortcut gives H(x)=F(x)+x."),
    Claim("C7", "§3", "If the identity is optimal, H(x)=x reduces to F(x)=0."),
    Claim("C8", "§3", "Gradient descent gets F(x)=0 most naturally by pushing all weights of the block to zero."),
    Claim("C9", "§3", "All-zero weights are a stable, easily reached fixed point."),
    Claim("C10", "§3", "L2 regularisation itself pushes weights toward zero."),
    Claim("C11", "§4", "A plain network must learn a complicated set of weights to fit H(x)=x: very hard."),
    Claim("C12", "§4", "A residual network only has to drive F to zero: very easy."),
    Claim(
        "C13", "end", "The residual structure removes degradation; hundreds or thousands of layers become trainable."
    ),
)

CLAIM_IDS = frozenset(c.id for c in CLAIMS)
