"""Experiment runner: designs, seeds, executors, the run store, consolidation, ``klaster sweep``."""
