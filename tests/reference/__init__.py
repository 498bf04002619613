"""Slow, readable references of three key rules, written the way docs/ODD.md reads.

Each module restates one rule with whole-array numpy (or a plain loop over firms) on a copy of
the model's state (``state.snapshot``), one step per ODD sentence. ``tests/test_reference.py``
runs the model's own function and the reference on the same state and the same random draws
and asserts that they agree. The references are for reading and checking, never for running.
"""
