"""A seeded bijective permutation of ``range(n)`` evaluated per index in O(1) memory.

``FeistelPermutation(n, key)(i)`` is a keyed Feistel network on the rectangle
``a x b`` (``a = ceil(sqrt(n))``, ``b = ceil(n / a)``, so ``a * b >= n``), with
modular addition instead of XOR so the halves may differ in size. Each round maps
``(L, R)`` in ``[0, a) x [0, b)`` to ``(R, (L + F(R)) mod a)``, which is invertible
whatever ``F`` is; an even number of rounds returns to the original shape. Values
that land in ``[n, a * b)`` are sent through the network again ("cycle walking"),
which keeps the map a bijection on ``range(n)``; since ``a * b < n + a`` this is
rare. It is a shuffle, not cryptography.

:meth:`FeistelPermutation.block` evaluates many consecutive positions at once
with NumPy (for ``n < 2**62``; same values as calling the permutation one index
at a time), which is how the grid sampler walks a cycle.
"""

from __future__ import annotations

import math
import random
from typing import Any

__all__ = ["FeistelPermutation", "IdentityPermutation"]

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a fast 64-bit integer hash."""
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & _M64
    return x ^ (x >> 31)


_MULT = 0x9E3779B97F4A7C15
_VECTOR_LIMIT = 1 << 62  # a, b < 2**31: every intermediate fits in uint64


class IdentityPermutation:
    """``i -> i``: lexicographic order."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, i: int) -> int:
        return i

    def block(self, start: int, count: int) -> list[int]:
        """Images of positions ``start .. start + count - 1`` (clipped to ``n``)."""
        return list(range(start, min(start + count, self.n)))


class FeistelPermutation:
    """A bijection of ``range(n)`` determined by ``key``; see the module docs.

    Parameters
    ----------
    n : int
        Size of the domain (any positive Python int).
    key : int
        Seed of the round keys; the same ``(n, key)`` gives the same permutation.
    rounds : int
        Number of Feistel rounds (even; 4 by default, as in Luby-Rackoff).
    """

    def __init__(self, n: int, key: int, rounds: int = 4) -> None:
        if n < 1:
            raise ValueError(f"permutation size must be >= 1, got {n}")
        if rounds % 2:
            raise ValueError("rounds must be even")
        self.n = n
        self.a = max(1, math.isqrt(n - 1) + 1)
        self.b = -(-n // self.a)
        rng = random.Random(key)
        self.keys = tuple(rng.getrandbits(64) for _ in range(rounds))

    def _forward(self, x: int) -> int:
        a, b = self.a, self.b
        left, right = divmod(x, b)  # left in [0, a), right in [0, b)
        width_l, width_r = a, b
        for k in self.keys:
            # round function: multiply-xorshift of (right ^ key) reduced mod the width
            # (so the NumPy path needs no wider than 64-bit integers); fold huge rights
            z = (right if right <= _M64 else (right & _M64) ^ _mix(right >> 64)) ^ k
            z = z * _MULT & _M64
            left, right = right, (left + (z ^ (z >> 29)) % width_l) % width_l
            width_l, width_r = width_r, width_l
        return left * b + right

    def block(self, start: int, count: int) -> list[int]:
        """Images of positions ``start .. start + count - 1`` (clipped to ``n``), vectorised.

        Equal to ``[self(i) for i in range(start, stop)]``; uses NumPy when
        ``n < 2**62`` and falls back to Python ints above.
        """
        stop = min(start + count, self.n)
        if self.n >= _VECTOR_LIMIT:
            return [self(i) for i in range(start, stop)]
        import numpy as np

        out = self._forward_np(np.arange(start, stop, dtype=np.uint64))
        outside = out >= self.n
        while outside.any():  # cycle walking, for the few that land in [n, a*b)
            out[outside] = self._forward_np(out[outside])
            outside = out >= self.n
        values: list[int] = out.tolist()
        return values

    def _forward_np(self, x: Any) -> Any:
        import numpy as np

        b = np.uint64(self.b)
        left, right = x // b, x % b
        width_l, width_r = np.uint64(self.a), b
        mult, shift = np.uint64(_MULT), np.uint64(29)
        for k in self.keys:
            z = (right ^ np.uint64(k)) * mult  # wraps modulo 2**64, like & _M64
            left, right = right, (left + (z ^ (z >> shift)) % width_l) % width_l
            width_l, width_r = width_r, width_l
        return left * b + right

    def __call__(self, i: int) -> int:
        """The image of ``i`` (``0 <= i < n``)."""
        if not 0 <= i < self.n:
            raise IndexError(f"index {i} outside range({self.n})")
        x = self._forward(i)
        while x >= self.n:
            x = self._forward(x)
        return x
