"""The compiled per-firm loops, one module per process they serve (``compiled`` holds the
decorator, the cache and ``columns_of``). Each rule module (``sim.model.<process>``) states the
rule and calls its kernels from here; kernels may call kernels and read constants of other
modules (the cache is keyed by a digest of all the model's code, ``sim.model.digest``)."""
