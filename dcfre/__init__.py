"""dcfre: CPU long-term visual tracking with ECO/UPDT correlation filters and re-detection.

The public entry points are :class:`dcfre.tracker.Tracker` (``Tracker.from_preset("eco-hc")``)
and the command line ``python -m dcfre``.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy import keeps ``import dcfre`` cheap (no numba compilation at import time).
    if name in ("Tracker", "TrackState"):
        from dcfre import tracker

        return getattr(tracker, name)
    raise AttributeError(f"module 'dcfre' has no attribute {name!r}")
