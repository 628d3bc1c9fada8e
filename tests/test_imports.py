"""What each entry point imports: heavy modules stay off the paths that do not need them.

Start-up time of ``python -m dcfre track`` is mostly imports. These tests check the set of loaded
modules (not a time) in a fresh interpreter, after building the ``track`` parser, after importing the
tracker and the tracking I/O, and after building an ECO-HC tracker.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dcfre

#: Modules none of the checked steps may load: plotting, the synthetic-data generator and the SciPy
#: parts it pulls in, dask (pyFFTW loads it eagerly when allowed), OpenCV, video and ONNX runtimes.
HEAVY = (
    "matplotlib",
    "dcfre.data.synthetic",
    "scipy.stats",
    "scipy.signal",
    "scipy.fft",
    "scipy.ndimage",
    "dask",
    "onnxruntime",
    "cv2",
    "imageio_ffmpeg",
)
#: Not needed to print ``track --help`` either.
NUMERICAL = ("numpy", "numba", "pyfftw", "scipy", "PIL", "dcfre.tracker", "dcfre.io")


def _loaded_after(code: str) -> set[str]:
    """Names in ``sys.modules`` after running ``code`` in a fresh interpreter using this checkout."""
    root = str(Path(dcfre.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _heavy_in(loaded: set[str], names) -> list[str]:
    return sorted(name for name in names if name in loaded)


def test_checker_sees_imports():
    # guards against a checker that can never fail (e.g. a subprocess that does not use this checkout)
    loaded = _loaded_after("import dcfre.cli.synth, dcfre.data.synthetic")
    assert "dcfre.data.synthetic" in loaded and "scipy.signal" in loaded
    assert dcfre.__file__ and "dcfre.cli" in loaded


def test_track_parser_loads_no_numerical_library():
    loaded = _loaded_after("from dcfre.cli import build_parser\nbuild_parser(['track', '--help'])")
    assert "dcfre.cli.track" in loaded
    assert _heavy_in(loaded, HEAVY + NUMERICAL) == []


@pytest.mark.parametrize("command", ["synth", "demo", "eval", "bench"])
def test_other_command_parsers_stay_light(command):
    loaded = _loaded_after(f"from dcfre.cli import build_parser\nbuild_parser(['{command}', '--help'])")
    assert f"dcfre.cli.{'evaluate' if command == 'eval' else command}" in loaded
    assert _heavy_in(loaded, HEAVY) == []


def test_tracking_path_loads_only_what_eco_hc_needs():
    code = (
        "import dcfre.io\n"
        "from dcfre.tracker import Tracker\n"
        "Tracker.from_preset('eco-hc')\n"
        "dcfre.io.parse_box('1,2,3,4')"
    )
    loaded = _loaded_after(code)
    assert "dcfre.tracker" in loaded and "numba" in loaded
    assert _heavy_in(loaded, HEAVY) == []


def test_eco_hc_track_run_loads_no_heavy_module(tmp_path):
    # a whole 'dcfre track' run on a folder of frames: decoding, tracking, result writing
    import imageio.v3 as iio
    import numpy as np

    rng = np.random.default_rng(0)
    for index in range(3):
        iio.imwrite(tmp_path / f"{index:04d}.png", rng.integers(0, 256, size=(96, 128, 3), dtype=np.uint8))
    out = tmp_path / "out.txt"
    code = (
        "from dcfre.cli import main\n"
        f"assert main(['track', {str(tmp_path)!r}, '--init', '40,30,32,24', '--preset', 'eco-hc', '--quiet', "
        f"'--out', {str(out)!r}]) == 0"
    )
    loaded = _loaded_after(code)
    assert len(out.read_text().splitlines()) == 3
    # scipy.linalg: numba's BLAS probe, not needed by dcfre's kernels (see dcfre._jit)
    assert _heavy_in(loaded, HEAVY + ("scipy.linalg", "dcfre.annotate")) == []
