"""hfx numerics: PyTorch / NumPy / SciPy experiments and the closed forms they test."""
