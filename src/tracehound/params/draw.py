"""Drawing rows from pools while a run sends: in order, at random (seeded), or each virtual user its own.

``sequential``  row 0, 1, 2 … shared by every virtual user, round and round (worker ``w`` of ``W``
                takes rows ``w``, ``w + W`` …, so workers never repeat each other within a round);
``random``      uniformly at random, from a generator seeded by the pool's ``seed``, the worker and
                the pool's name: the same seed draws the same rows;
``unique``      each virtual user its own rows, as k6's per-VU data: user ``g`` of ``V`` takes rows
                ``g``, ``g + V``, ``g + 2V`` … and starts over, so no two users ever share a value
                (with fewer rows than users, users ``g`` and ``g mod rows`` share). Arrivals of the
                open model have no user: there it draws as ``sequential``.

A run records, for every request, the row of each pool it used, by the request's sequence number
(:class:`Draws` writes the record buffer's ``draws`` columns).
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any

import numpy as np

from tracehound.params.pool import Pool

RANDOM_BLOCK = 4096
_NO_ROW = array("i", [-1])


class Drawer:
    """One pool's draws in one process: worker ``worker`` of ``workers``, ``vus`` virtual users each at most."""

    __slots__ = ("size", "mode", "worker", "workers", "k", "rng", "block", "pos", "per_vu", "span", "draw")

    #: The row for the next request (or iteration) of virtual user ``vu`` (-1: none): the mode's method.
    draw: Callable[[int], int]

    def __init__(self, pool: Pool, worker: int = 0, workers: int = 1, vus: int = 1) -> None:
        self.size = pool.size
        self.mode = pool.draw
        self.worker = worker
        self.workers = max(1, workers)
        self.k = 0
        self.rng = np.random.default_rng([pool.seed & 0xFFFFFFFF, worker, zlib.crc32(pool.name.encode())])
        self.block: list[int] = []
        self.pos = 0
        self.per_vu: dict[int, int] = {}
        #: Every worker's virtual users together: user ``vu`` of this worker is ``vu * workers + worker``.
        self.span = max(1, vus) * self.workers
        self.draw = self._random if self.mode == "random" else self._unique if self.mode == "unique" else self._in_order

    def _in_order(self, vu: int = -1) -> int:
        k = self.k
        self.k = k + 1
        return (k * self.workers + self.worker) % self.size

    def _random(self, vu: int = -1) -> int:
        pos = self.pos
        if pos >= len(self.block):
            self.block = self.rng.integers(0, self.size, RANDOM_BLOCK).tolist()
            pos = 0
        self.pos = pos + 1
        return self.block[pos]

    def _unique(self, vu: int = -1) -> int:
        if vu < 0:
            return self._in_order(vu)
        g = vu * self.workers + self.worker
        if g >= self.size:
            return g % self.size
        j = self.per_vu.get(vu, 0)
        self.per_vu[vu] = j + 1
        span = self.span
        return g + (j % ((self.size - g + span - 1) // span)) * span


class Draws:
    """A process's draws from a flow's pools, and the row each request used, by sequence number.

    ``codes`` are the record buffer's per-pool arrays (:attr:`RecordBuffer.draws`); a request that
    used no row of a pool keeps -1 there.
    """

    def __init__(self, pools: Sequence[Pool], codes: Sequence[array[int]], worker: int = 0, workers: int = 1,
                 vus: int = 1) -> None:
        self.pools = list(pools)
        self.drawers = [Drawer(p, worker, workers, vus) for p in self.pools]
        self.codes = list(codes)
        #: Per pool, the variables it fills and their columns.
        self.columns = [[(c, p.column(c)) for c in p.used_columns] for p in self.pools]

    def __len__(self) -> int:
        return len(self.pools)

    def draw(self, j: int, vu: int, env: MutableMapping[str, Any] | None = None) -> int:
        """Draw a row of pool ``j`` for ``vu``; with ``env``, set the variables it fills."""
        row = self.drawers[j].draw(vu)
        if env is not None:
            for name, col in self.columns[j]:
                env[name] = col[row]
        return row

    def record(self, seq: int, rows: Sequence[int]) -> None:
        """Request ``seq`` used ``rows`` (one per pool; -1 for none)."""
        for arr, row in zip(self.codes, rows, strict=True):
            if seq >= len(arr):
                grow(arr, seq)
            arr[seq] = row


def grow(arr: array[int], seq: int) -> None:
    """Make room in ``arr`` for index ``seq`` (by an eighth at least: little slack; new places hold -1: no row)."""
    arr.extend(_NO_ROW * max(seq + 1 - len(arr), len(arr) >> 3, 4096))


__all__ = ["RANDOM_BLOCK", "Drawer", "Draws", "grow"]
