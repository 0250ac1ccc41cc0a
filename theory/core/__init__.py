"""The checker engine: derivations and their steps, the checking ladder, sampling, the registry, printing.

Everything a theorem module needs is re-exported by `theory.derivation` (the public API);
the theorem topics live beside this package, one module per family (`theory/<topic>.py`).
"""
