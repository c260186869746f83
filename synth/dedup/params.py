"""LSH parameters: the S-curve ``P(candidate | J) = 1 - (1 - J**r) ** b`` and how (b, r) are chosen.

datasketch's ``MinHashLSH(threshold=0.8, num_perm=128)`` picks (b, r) = (9, 13), whose 50 % point is
``(1/9) ** (1/13) = 0.845``: it finds only 40 % of pairs at J = 0.8. We instead treat ``threshold``
as the Jaccard a pair must reach to count as duplicate, choose (b, r) so that LSH proposes at least
99 % of the pairs at the threshold (the longest rows r that still does so, which keeps chance
candidates few), and verify every candidate on its signature. With the defaults (threshold 0.6,
128 permutations) that is b x r = 32 x 4.
"""

from __future__ import annotations

import math

CURVE_POINTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def probability(s: float, b: int, r: int) -> float:
    """Chance that a pair with Jaccard ``s`` shares at least one of ``b`` bands of ``r`` rows."""
    return 1.0 - (1.0 - s ** r) ** b


def choose_params(threshold: float, num_perm: int, target: float = 0.99, min_rows: int = 4) -> tuple[int, int]:
    """The (bands, rows) with the most rows whose S-curve still reaches ``target`` at ``threshold``.

    ``min_rows`` keeps chance collisions of unrelated documents rare: a band of 4 one-byte values
    collides by chance with probability 2**-32. When no curve reaches ``target`` (a low threshold),
    the one with ``min_rows`` rows, the most permissive, is used.
    """
    options = [(num_perm // r, r) for r in range(min_rows, num_perm + 1)]
    good = [(b, r) for b, r in options if probability(threshold, b, r) >= target]
    return good[-1] if good else options[0]


def s_curve(b: int, r: int, points=CURVE_POINTS) -> list[tuple[float, float]]:
    """[(J, P(candidate))] at the given Jaccard values."""
    return [(s, probability(s, b, r)) for s in points]


def midpoint(b: int, r: int) -> float:
    """The Jaccard at which half of all pairs become candidates: ``(1/b) ** (1/r)``."""
    return math.pow(1.0 / b, 1.0 / r)
