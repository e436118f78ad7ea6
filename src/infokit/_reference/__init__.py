"""Pure-numpy twins of the compiled kernels: the fallback and the test oracle."""
