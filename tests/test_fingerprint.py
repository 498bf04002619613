"""Every output of every preset and the Indonesian scenario is bit-identical to the stored
fingerprint (``tests/fingerprint.py``): refactorings and speed work must not move a single bit."""

from __future__ import annotations

import pytest
from fingerprint import CASES, fingerprint, recorded_with, stored

STORED = stored()


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_are_bit_identical(case: str) -> None:
    if STORED is None:
        pytest.skip(f"no fingerprints stored for {recorded_with()}")
    assert fingerprint(case) == STORED[case]


def test_fingerprint_sees_a_one_bit_change() -> None:
    """The digest is of raw bytes: the smallest change of one value changes it."""
    import numpy as np
    import pandas as pd
    from fingerprint import frame_digest

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    nudged = frame.copy()
    nudged.loc[1, "x"] = np.nextafter(2.0, 3.0)
    assert frame_digest(frame) != frame_digest(nudged)
