"""hfx: a symbolic and numeric theory verifier for H(x) = F(x) + x."""

__version__ = "0.1.0"
