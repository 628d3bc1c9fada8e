"""Listing image files of a folder in natural order (``2.jpg`` before ``10.jpg``)."""

from __future__ import annotations

import re
from pathlib import Path

#: File name endings (lower case) recognised as frame images.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"})

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: ``img2`` < ``img10``.

    Numbers compare as integers and text case-insensitively; the plain name breaks ties so that
    ``1.jpg`` and ``01.jpg`` keep a stable order.
    """
    parts = _DIGITS.split(name)
    key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts if p)
    return key + ((2, 0, name),)


def is_image_file(path: Path) -> bool:
    """True for a regular, non-hidden file with an image extension."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".") and path.is_file()


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, in natural order (empty list if there are none)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if is_image_file(p)), key=lambda p: natural_key(p.name))
