"""ECO's generative sample space model: a fixed-size memory of weighted sample components.

Each component is a (projected) training sample in the Fourier domain with a prior weight; the
weights sum to one. A new sample either fills a free slot, replaces a component whose weight
decayed below the minimum, merges into its nearest component, or, when two existing components
are closer to each other than to the new sample, those two merge and the new sample takes the
freed slot (Danelljan et al., ECO, CVPR 2017, section 3.3).
"""

from __future__ import annotations

import numpy as np

from dcfre.fourier import half_weights


class SampleMemory:
    """Memory of ``capacity`` sample components, each a list of per-block half spectra.

    Parameters
    ----------
    block_shapes : list of (C, K1, Kh)
        Shape of one sample's spectrum in each feature block.
    capacity : int
        Maximum number of components (ECO's nSamples).
    learning_rate : float
        Weight given to each new sample.
    """

    def __init__(self, block_shapes: list[tuple[int, int, int]], capacity: int, learning_rate: float):
        self.capacity = capacity
        self.learning_rate = learning_rate
        self.minimum_weight = learning_rate * (1 - learning_rate) ** (2 * capacity)
        self.samples = [np.zeros((capacity,) + tuple(s), dtype=np.complex64) for s in block_shapes]
        self._weights_ip = [half_weights(s[1], s[2]) for s in block_shapes]
        self._weights_pairs = [np.repeat(w, 2, axis=-1) for w in self._weights_ip]  # for (re, im) views
        self.prior_weights = np.zeros(capacity, dtype=np.float64)
        self.gram = np.zeros((capacity, capacity), dtype=np.float64)  # inner products <x_i, x_j>
        self.count = 0

    # ------------------------------------------------------------------ inner products
    def _inner_with_all(self, sample: list[np.ndarray]) -> np.ndarray:
        """<x_i, sample> for every slot i, shape (capacity,).

        Complex arrays are viewed as interleaved (re, im) floats so that the weighted real inner
        product ``sum w (a.re b.re + a.im b.im)`` is one matrix-vector product per block.
        """
        total = np.zeros(self.capacity, dtype=np.float64)
        for stored, new, w in zip(self.samples, sample, self._weights_pairs):
            flat_new = (np.ascontiguousarray(new, dtype=np.complex64).view(np.float32) * w).reshape(-1)
            total += stored.view(np.float32).reshape(self.capacity, -1) @ flat_new
        return total

    def _norm(self, sample: list[np.ndarray]) -> float:
        return float(sum(np.sum(w * (s.real**2 + s.imag**2)) for s, w in zip(sample, self._weights_ip)))

    def _store(self, slot: int, sample: list[np.ndarray]) -> None:
        for stored, new in zip(self.samples, sample):
            stored[slot] = new
        inner = self._inner_with_all(sample)
        self.gram[slot, :] = inner
        self.gram[:, slot] = inner

    # ------------------------------------------------------------------ update
    @property
    def weights(self) -> np.ndarray:
        """Prior weights of the occupied slots, shape (count,)."""
        return self.prior_weights[: self.count]

    def distances_to(self, sample: list[np.ndarray]) -> np.ndarray:
        """Squared distances ||x_i - sample||^2 to the occupied slots."""
        inner = self._inner_with_all(sample)[: self.count]
        diag = np.diag(self.gram)[: self.count]
        return np.maximum(self._norm(sample) + diag - 2 * inner, 0.0)

    def insert_initial(self, samples: list[np.ndarray]) -> None:
        """Fill an empty memory with ``A`` first-frame samples of weight ``1 / A`` each (UPDT).

        ``samples``: list of per-block arrays (A, C, K1, Kh); A <= capacity.
        """
        n = samples[0].shape[0]
        if self.count or n > self.capacity:
            raise ValueError(f"insert_initial needs an empty memory with room for {n} samples")
        self.prior_weights[:n] = 1.0 / n
        self.count = n
        for i in range(n):
            self._store(i, [s[i] for s in samples])

    def insert(self, sample: list[np.ndarray]) -> int:
        """Add a new sample (list of per-block spectra); returns the slot that changed."""
        lr = self.learning_rate
        if self.count < self.capacity:
            slot = self.count
            if slot == 0:
                self.prior_weights[0] = 1.0
            else:
                self.prior_weights[: self.count] *= 1 - lr
                self.prior_weights[slot] = lr
            self.count += 1
            self._store(slot, sample)
            return slot

        lightest = int(np.argmin(self.prior_weights))
        if self.prior_weights[lightest] < self.minimum_weight:
            self.prior_weights[lightest] = 0.0
            self.prior_weights *= (1 - lr) / self.prior_weights.sum()
            self.prior_weights[lightest] = lr
            self._store(lightest, sample)
            return lightest

        to_new = self.distances_to(sample)
        nearest = int(np.argmin(to_new))
        pairwise = self._pairwise_distances()
        i, j = np.unravel_index(int(np.argmin(pairwise)), pairwise.shape)
        self.prior_weights *= 1 - lr
        if to_new[nearest] < pairwise[i, j]:
            w_old = self.prior_weights[nearest]
            merged = self._merge(self._get(nearest), w_old, sample, lr)
            self.prior_weights[nearest] = w_old + lr
            self._store(nearest, merged)
            return nearest
        # merge the two closest stored components, the new sample takes the freed slot
        if self.prior_weights[j] > self.prior_weights[i]:
            i, j = j, i
        merged = self._merge(self._get(i), self.prior_weights[i], self._get(j), self.prior_weights[j])
        self.prior_weights[i] += self.prior_weights[j]
        self.prior_weights[j] = lr
        self._store(i, merged)
        self._store(j, sample)
        return int(j)

    def _pairwise_distances(self) -> np.ndarray:
        diag = np.diag(self.gram)
        dist = np.maximum(diag[:, None] + diag[None, :] - 2 * self.gram, 0.0)
        np.fill_diagonal(dist, np.inf)
        return dist

    def _get(self, slot: int) -> list[np.ndarray]:
        return [s[slot].copy() for s in self.samples]

    @staticmethod
    def _merge(a: list[np.ndarray], wa: float, b: list[np.ndarray], wb: float) -> list[np.ndarray]:
        return [((wa * x + wb * y) / (wa + wb)).astype(np.complex64) for x, y in zip(a, b)]
