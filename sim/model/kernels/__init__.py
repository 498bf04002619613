"""The compiled per-firm loops, one module per process they serve (``compiled`` holds the
decorator and the cache). Each rule module imports its kernels from here."""
