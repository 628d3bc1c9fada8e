"""dcfre with the tracker interface of the got10k toolkit (``init(image, box)``, ``update(image) -> box``).

got10k's experiments (``ExperimentOTB``, ``ExperimentGOT10k``, ...) call ``tracker.track(img_files, box)``
and read ``tracker.name``; :class:`Got10kTracker` provides all three on PIL images without importing
got10k (so it need not be installed to use the class)::

    from got10k.experiments import ExperimentOTB
    experiment = ExperimentOTB("data/OTB", version=2015)
    experiment.run(Got10kTracker("eco-hc"))
    experiment.report(["dcfre-eco-hc"])

got10k's interface has no "target absent" answer: :meth:`Got10kTracker.update` returns the last known box
while dcfre reports the target absent; the present flag and confidence are in :attr:`Got10kTracker.state`.
"""

from __future__ import annotations

import time

import numpy as np

from dcfre.errors import InputError


def pil_to_array(image) -> np.ndarray:
    """A PIL image as dcfre's frame: RGB ``(H, W, 3)`` uint8, or ``(H, W)`` for gray images."""
    mode = getattr(image, "mode", None)
    if mode is None:
        raise InputError(f"expected a PIL image, got {type(image).__name__}")
    if mode not in ("RGB", "L"):
        image = image.convert("L" if mode in ("1", "LA", "I", "I;16", "F") else "RGB")
    return np.asarray(image)


class Got10kTracker:
    """dcfre behind got10k's tracker interface.

    Parameters
    ----------
    preset : str
        dcfre preset (see :func:`dcfre.config.preset_names`).
    name : str or None
        Name under which got10k stores results; default ``dcfre-<preset>``.
    **overrides
        Config overrides, as for :meth:`dcfre.tracker.Tracker.from_preset`.

    Attributes
    ----------
    name : str
    is_deterministic : bool
        True: got10k's VOT experiment then runs each sequence once.
    state : dcfre.tracker.TrackState or None
        Output of the last ``init`` / ``update``.
    """

    is_deterministic = True

    def __init__(self, preset: str = "eco-hc", name: str | None = None, **overrides) -> None:
        self.name = name or f"dcfre-{preset}"
        self._preset, self._overrides = preset, overrides
        self._tracker = None
        self.state = None

    def init(self, image, box) -> None:
        """Start on a PIL image with ``box`` = ``(x, y, w, h)`` (a fresh tracker per call)."""
        from dcfre.tracker import Tracker

        self._tracker = Tracker.from_preset(self._preset, **self._overrides)
        self.state = self._tracker.initialize(pil_to_array(image), np.asarray(box, dtype=np.float64))

    def update(self, image) -> np.ndarray:
        """Track in the next PIL image; returns ``(x, y, w, h)`` as float64 (4,)."""
        if self._tracker is None:
            raise InputError("update() called before init()")
        self.state = self._tracker.track(pil_to_array(image))
        return np.asarray(self.state.box, dtype=np.float64).copy()

    def track(self, img_files, box, visualize: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Run over image files, as got10k's experiments call it.

        Parameters
        ----------
        img_files : sequence of str
        box : array_like, shape (4,)
            First-frame box; it is also the first returned row.
        visualize : bool
            Ignored (dcfre draws with ``dcfre track --save-video``).

        Returns
        -------
        boxes : ndarray, shape (N, 4), float64
        times : ndarray, shape (N,), float64
            Seconds per frame (decoding excluded).
        """
        from PIL import Image

        boxes = np.zeros((len(img_files), 4))
        times = np.zeros(len(img_files))
        for index, path in enumerate(img_files):
            with Image.open(path) as opened:
                image = opened.convert("RGB") if opened.mode != "L" else opened.copy()
            start = time.perf_counter()
            if index == 0:
                self.init(image, box)
                boxes[0] = np.asarray(box, dtype=np.float64)
            else:
                boxes[index] = self.update(image)
            times[index] = time.perf_counter() - start
        return boxes, times
