"""dcfre inside other people's tools.

- :mod:`dcfre.integrations.vot`: a TraX server for the VOT toolkit (``python -m dcfre vot``), the
  ``trackers.ini`` entry, and the VOT toolkit's long-term scoring convention applied to dcfre results;
- :mod:`dcfre.integrations.opencv`: :class:`OpenCVStyleTracker`, the ``init`` / ``update -> (ok, box)``
  interface of OpenCV's trackers, on BGR frames as ``cv2.VideoCapture`` delivers them;
- :mod:`dcfre.integrations.got10k`: :class:`Got10kTracker`, the ``init`` / ``update -> box`` interface
  of the got10k toolkit, on PIL images.

Nothing is imported until used (the adapters load the tracker, the VOT server loads TraX).
"""

_LAZY = {
    "OpenCVStyleTracker": "dcfre.integrations.opencv",
    "Got10kTracker": "dcfre.integrations.got10k",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dcfre.integrations' has no attribute {name!r}")
