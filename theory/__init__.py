"""hfx theory: SymPy derivations, every step checked (pure; exact arithmetic)."""
