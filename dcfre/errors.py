"""Exceptions raised at dcfre's public boundary.

Every error a user can cause (bad file, bad box, bad frame) is raised as a subclass of
:class:`DcfreError` with a one-line message naming the problem, so that the CLI can print it
and exit non-zero instead of showing a traceback from deep inside numba or numpy.
"""


class DcfreError(Exception):
    """Base class of all user-facing dcfre errors."""


class InputError(DcfreError, ValueError):
    """An argument or input value is invalid (wrong shape, zero-size box, malformed text)."""


class FrameReadError(DcfreError, IOError):
    """A frame could not be read or decoded (missing, unreadable or corrupt file)."""


class AnnotationError(DcfreError, ValueError):
    """A ground-truth or attribute file is missing or malformed."""


class DatasetError(DcfreError, IOError):
    """A dataset root or sequence folder does not have the expected layout."""
