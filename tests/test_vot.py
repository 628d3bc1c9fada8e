"""dcfre under the VOT toolkit: the TraX server, its trackers.ini entry and vot's long-term scoring.

The end-to-end test builds a VOT workspace from two generated long-term sequences, runs the official
toolkit (``vot test``, ``vot evaluate``, ``vot analysis``) with dcfre through TraX, and checks that
the toolkit recorded exactly what ``dcfre track`` outputs on the same frames, and that the F-score
its analysis reports is the one :func:`dcfre.integrations.vot.vot_longterm_scores` computes from the
``dcfre track`` results (dcfre's long-term metric with vot's documented conventions applied).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import cv2
import numpy as np
import pytest

from dcfre.errors import InputError
from dcfre.integrations import vot as dvot

HAVE_VOT = importlib.util.find_spec("vot") is not None
HAVE_TRAX = importlib.util.find_spec("trax") is not None
needs_vot = pytest.mark.skipif(
    not HAVE_VOT, reason="vot-toolkit is not installed (pip install --no-deps -r requirements-vot.txt)"
)
needs_trax = pytest.mark.skipif(not HAVE_TRAX, reason="vot-trax is not installed (pip install vot-trax==4.0.2)")

FRAME_SIZE = (320, 180)  # width, height
N_FRAMES = 50
TRACKER = "dcfre_test"
PRESET = "eco-hc"  # the fast preset: this test is about the integration, not accuracy
REDETECT = "global"  # eco-hc's default is "off", which never reports the target absent
SUBPROCESS_TIMEOUT_S = 240


# --------------------------------------------------------------------------------------------- helpers


def write_vot_sequence(folder: Path, frames, groundtruth) -> None:
    """One sequence in the VOT format: ``sequence`` metadata, ``color/%08d.jpg``, ``groundtruth.txt``.

    The ground truth is written in quarter pixels: TraX sends regions as float32, and a box exactly
    representable in float32 reaches the tracker bit-identical to the one ``dcfre track`` reads (the
    tracker is sensitive enough to a 1e-5 px change of its initial box to end up elsewhere 40 frames later).
    """
    (folder / "color").mkdir(parents=True)
    for index, frame in enumerate(frames, 1):
        cv2.imwrite(str(folder / "color" / f"{index:08d}.jpg"), frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    lines = ["nan,nan,nan,nan" if not np.isfinite(row).all() else ",".join(f"{v:.2f}" for v in row)
             for row in groundtruth]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    height, width = frames[0].shape[:2]
    (folder / "sequence").write_text(
        f"channels.color=color/%08d.jpg\nformat=default\nfps=30\nwidth={width}\nheight={height}\n"
        f"length={len(frames)}\nname={folder.name}\n"
    )


#: The ``longterm`` experiment of the toolkit's ``vot2018/longterm.yaml`` stack (VOT-LT2018), without
#: its ``dataset:`` download URL (so the workspace runs offline on local sequences) and without the
#: ``redetection`` experiment (broken in vot-toolkit 0.9.0).
LONGTERM_STACK = """\
title: VOT-LT2018 longterm experiment on local sequences
experiments:
  longterm:
    type: unsupervised
    repetitions: 1
    analyses:
      - type: average_tpr
        name: average_tpr
      - type: pr_curve
      - type: f_curve
"""


def _vot(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vot", *args], cwd=workspace, capture_output=True, text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
    )


def _generated_sequences():
    """Two short long-term sequences, each with an out-of-view span and a full occlusion."""
    from dcfre.data.synthetic import make_sequence

    sequences = []
    for index, seed in enumerate((3, 7)):
        seq = make_sequence(
            seed=seed, n_frames=N_FRAMES, size=FRAME_SIZE, target_size=36.0, clear_start=10, duration_scale=0.3,
            n_out_of_view=1, n_occlusions=1, out_of_view_frames=(10, 15), occlusion_frames=(6, 10),
            name=f"lt{index}",
        )
        gt = seq.groundtruth.copy()
        gt[:, :2] -= 1  # OTB 1-based -> VOT 0-based
        gt = np.round(gt * 4) / 4  # quarter pixels (see write_vot_sequence)
        sequences.append((seq.name, seq.frames, gt))
    return sequences


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A VOT workspace with two generated sequences and dcfre registered in trackers.ini."""
    root = tmp_path_factory.mktemp("vot")
    (root / "lt-stack.yaml").write_text(LONGTERM_STACK)
    ws = root / "workspace"
    done = _vot(root, "initialize", str(root / "lt-stack.yaml"), "--workspace", str(ws))
    assert done.returncode == 0, done.stdout + done.stderr
    names = []
    for name, frames, gt in _generated_sequences():
        write_vot_sequence(ws / "sequences" / name, frames, gt)
        names.append(name)
    (ws / "sequences" / "list.txt").write_text("\n".join(names) + "\n")
    with open(ws / "trackers.ini", "a") as ini:
        ini.write(dvot.trackers_ini_entry(TRACKER, preset=PRESET, redetect=REDETECT, timeout=120))
    return ws


def _toolkit_trajectory(ws: Path, sequence: str):
    """Boxes (NaN for special regions), present flags and confidences the toolkit stored."""
    from vot.region import Rectangle
    from vot.tracker.results import Results, Trajectory
    from vot.workspace.storage import LocalStorage

    storage = LocalStorage(str(ws / "results" / TRACKER / "longterm" / sequence))
    trajectory = Trajectory.read(Results(storage), f"{sequence}_001")
    boxes = np.array([[r.x, r.y, r.width, r.height] if isinstance(r, Rectangle) else [np.nan] * 4
                      for r in trajectory.regions()])
    confidence = np.array([trajectory.properties(i).get("confidence", np.nan) for i in range(len(trajectory))])
    present = np.isfinite(boxes).all(axis=1) & ~((boxes[:, 2] == 0) & (boxes[:, 3] == 0))
    return boxes, present, confidence


# --------------------------------------------------------------------------------------------- end to end


@needs_vot
def test_toolkit_runs_dcfre_and_agrees_with_dcfre_track(workspace, tmp_path):
    from dcfre.cli import main
    from dcfre.evaluation.metrics import longterm_scores
    from dcfre.io import read_results

    tested = _vot(workspace, "test", TRACKER, "--sequence", str(workspace / "sequences" / "lt1"))
    output = tested.stdout + tested.stderr
    assert tested.returncode == 0 and "Test concluded successfuly" in output, output[-3000:]
    assert '"confidence=' in output  # frame replies carry the confidence property

    evaluated = _vot(workspace, "evaluate", "--workspace", str(workspace), TRACKER)
    # vot evaluate exits 0 even when the tracker crashed: the stored results are the evidence
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    analysed = _vot(workspace, "analysis", "--workspace", str(workspace), "--name", "check", TRACKER)
    assert analysed.returncode == 0, analysed.stdout + analysed.stderr
    report = json.loads((workspace / "analysis" / "check.json").read_text())
    toolkit_pr, toolkit_re, toolkit_f = report["results"]["longterm"]["results"][0][0]

    items, own = [], []
    for name in ("lt0", "lt1"):
        folder = workspace / "sequences" / name
        assert (workspace / "results" / TRACKER / "longterm" / name).is_dir(), evaluated.stdout[-3000:]
        out = tmp_path / f"{name}.txt"
        assert main(["track", str(folder), "--preset", PRESET, "--redetect", REDETECT, "--out", str(out),
                     "--quiet"]) == 0
        boxes, confidence, present = read_results(out)
        vot_boxes, vot_present, vot_confidence = _toolkit_trajectory(workspace, name)

        assert len(vot_boxes) == len(boxes) == N_FRAMES
        assert not np.isfinite(vot_boxes[0]).any()  # the toolkit records frame 1 as a special region
        np.testing.assert_array_equal(vot_present[1:], present[1:])
        # present frames: the same box up to TraX's float32 and 4-decimal text encodings
        np.testing.assert_allclose(vot_boxes[1:][present[1:]], boxes[1:][present[1:]], atol=2e-3)
        np.testing.assert_allclose(vot_boxes[1:][~present[1:]], 0.0)  # absent: the empty rectangle
        np.testing.assert_allclose(vot_confidence[1:], confidence[1:], rtol=1e-6, atol=1e-9)

        gt = np.genfromtxt(folder / "groundtruth.txt", delimiter=",")
        items.append((boxes, confidence, present, gt, FRAME_SIZE))
        own.append((boxes, confidence, present, gt))

    assert any((~p).any() for _, _, p, _ in own), "the sequences should make the tracker report the target absent"
    converted = dvot.vot_longterm_scores(items)
    assert converted.f_score == pytest.approx(toolkit_f, abs=1e-9)
    assert converted.precision_at_best == pytest.approx(toolkit_pr, abs=1e-9)
    assert converted.recall_at_best == pytest.approx(toolkit_re, abs=1e-9)
    # without the conventions the number differs: absent frames reported absent are not rewarded
    assert longterm_scores(own).f_score != pytest.approx(toolkit_f, abs=1e-4)


@needs_vot
def test_overlap_convention_matches_the_toolkit():
    """vot_overlaps against vot's own rasterizing overlap, on random, empty, fractional and off-image boxes."""
    from vot.region import Rectangle, Special
    from vot.region.raster import calculate_overlap

    rng = np.random.default_rng(0)
    width, height = 64, 48
    n = 400
    pred = np.column_stack([rng.uniform(-20, 70, n), rng.uniform(-20, 55, n), rng.uniform(0.2, 40, n),
                            rng.uniform(0.2, 40, n)])
    pred[::7, :2] = np.round(pred[::7, :2]) + 0.5  # exact halves: rounding ties
    gt = np.column_stack([rng.uniform(0, 50, n), rng.uniform(0, 40, n), rng.uniform(1, 30, n), rng.uniform(1, 30, n)])
    gt[::5] = np.nan
    present = rng.random(n) > 0.3
    ours = dvot.vot_overlaps(pred, present, gt, (width, height))
    for t in range(n):
        first = Special(0) if t == 0 else (Rectangle(*pred[t]) if present[t] else Rectangle(0, 0, 0, 0))
        second = Special(0) if not np.isfinite(gt[t]).all() else Rectangle(*gt[t])
        assert ours[t] == pytest.approx(calculate_overlap(first, second, (width, height)), abs=1e-12), t


# --------------------------------------------------------------------------------------------- server


def _trax_client(preset=PRESET):
    """A dcfre TraX server process and a TraX client on its stdin/stdout (stderr kept apart)."""
    from trax.client import Client

    process = subprocess.Popen(
        [sys.executable, "-m", "dcfre", "vot", "--preset", preset],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
        cwd=Path(__file__).resolve().parents[1],
    )
    client = Client(stream=(process.stdin.fileno(), process.stdout.fileno()), timeout=120, log=True)
    return process, client


@needs_trax
def test_protocol_on_stdout_and_a_bad_frame_is_a_clean_trax_error(tmp_path):
    """stdout carries TraX only (stderr is separate here, unlike under the toolkit); the replies follow the
    documented shape; a corrupt image ends the session with a TraX quit, a message on stderr, status 1."""
    from trax import FileImage, Rectangle, TraxException

    from test_tracking import moving_object_sequence

    frames, gt = moving_object_sequence(n_frames=200, size=(180, 240), seed=5)
    paths = []
    for index, frame in enumerate(frames[:5]):
        paths.append(tmp_path / f"{index:03d}.png")
        cv2.imwrite(str(paths[-1]), frame[:, :, ::-1])
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    process, client = _trax_client()
    try:
        init = [round(v * 4) / 4 for v in gt[0]]
        state, _ = client.initialize({"color": FileImage.create(str(paths[0]))}, [(Rectangle.create(*init), {})], {})
        region, properties = state[0]
        assert region.bounds() == pytest.approx(init) and "confidence" not in properties
        for path in paths[1:]:
            state, _ = client.frame({"color": FileImage.create(str(path))}, {}, [])
            region, properties = state[0]
            assert float(properties["confidence"]) > 0 and region.bounds()[2] > 0
        with pytest.raises(TraxException, match="Server terminated the session"):
            client.frame({"color": FileImage.create(str(corrupt))}, {}, [])
        assert process.wait(timeout=60) == 1
        stderr = process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert "dcfre vot: error: frame 6: cannot decode image" in stderr and "Traceback" not in stderr


def test_bad_initialization_requests_are_input_errors(tmp_path):
    """A missing image and a box outside the image raise InputError-family errors (the server's clean path)."""
    from dcfre.errors import FrameReadError
    from dcfre.tracker import Tracker

    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((60, 80, 3), 128, np.uint8))
    session = dvot.VotSession(lambda: Tracker.from_preset(PRESET))
    with pytest.raises(FrameReadError, match="not found"):
        session.initialize(str(tmp_path / "missing.jpg"), (10, 10, 20, 20))
    with pytest.raises(InputError, match="outside the 80x60 frame"):
        session.initialize(str(image), (500, 500, 20, 20))


@needs_trax
def test_non_rectangle_region_is_refused(tmp_path):
    """A conforming client converts polygons to rectangles itself; the server still refuses one it is sent."""
    import trax

    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((60, 80, 3), 128, np.uint8))
    Request = namedtuple("Request", ["type", "image", "objects", "properties"])
    polygon = trax.Polygon.create([(10, 10), (40, 12), (38, 40), (9, 38)])
    request = Request(trax.TraxStatus.INITIALIZE, {"color": trax.FileImage.create(str(image))}, [(polygon, {})], {})
    session = dvot.VotSession(lambda: pytest.fail("no tracker should be built"))
    with pytest.raises(InputError, match="rectangle regions only, got a polygon"):
        dvot._answer(trax, session, request)


# --------------------------------------------------------------------------------------------- pure parts


class _FakeTracker:
    def __init__(self):
        self.calls = []

    def initialize(self, frame, box):
        self.calls.append(("init", frame.shape, tuple(box)))

    def track(self, frame):
        present = len(self.calls) % 2 == 1
        self.calls.append(("track", frame.shape))
        return namedtuple("State", "box confidence present")(np.array([1.5, 2.5, 3.0, 4.0]), 0.25, present)


def test_session_replies_follow_the_toolkit_conventions():
    tracker = _FakeTracker()
    session = dvot.VotSession(lambda: tracker, read_image=lambda path: np.zeros((20, 30, 3), np.uint8))
    assert session.initialize("a.jpg", (1.0, 2.0, 3.0, 4.0)) == ((1.0, 2.0, 3.0, 4.0), {})
    assert session.frame("b.jpg") == ((1.5, 2.5, 3.0, 4.0), {"confidence": 0.25})
    assert session.frame("c.jpg") == (dvot.EMPTY_REGION, {"confidence": 0.25})  # absent: empty rectangle
    assert [c[0] for c in tracker.calls] == ["init", "track", "track"]
    assert dvot.reply_for([1, 2, 3, 4], float("nan"), True)[1] == {"confidence": 0.0}


def test_frame_before_initialize_is_an_input_error():
    session = dvot.VotSession(_FakeTracker, read_image=lambda path: np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(InputError, match="before initialization"):
        session.frame("a.jpg")


def test_trackers_ini_entry_has_absolute_paths(capsys):
    from dcfre.cli import main

    assert main(["vot", "--print-ini", "dcfre_hc", "--preset", "eco-hc", "--redetect", "local"]) == 0
    entry = capsys.readouterr().out
    lines = dict(line.split(" = ", 1) for line in entry.splitlines()[1:])
    assert entry.startswith("[dcfre_hc]\n") and lines["protocol"] == "trax"
    command = lines["command"].split()
    assert Path(command[0]).is_absolute() and command[1:] == ["-m", "dcfre", "vot", "--preset", "eco-hc",
                                                             "--redetect", "local"]
    assert Path(lines["env_PYTHONPATH"], "dcfre", "integrations", "vot.py").is_file()
    with pytest.raises(InputError, match="tracker name"):
        dvot.trackers_ini_entry("bad name")


def test_vot_convention_scores_by_hand():
    """Two frames after the first: a hit (IoU 1 on whole pixels) and a correct 'absent'."""
    gt = np.array([[0, 0, 4, 4], [0, 0, 4, 4], [np.nan] * 4])
    pred = np.array([[0, 0, 4, 4], [0.2, -0.2, 4.4, 3.6], [9, 9, 9, 9]])
    present = np.array([True, True, False])
    np.testing.assert_allclose(dvot.vot_overlaps(pred, present, gt, (10, 10)), [0.0, 1.0, 1.0])
    scores = dvot.vot_longterm_scores([(pred, [1.0, 0.9, 0.5], present, gt, (10, 10))])
    # thresholds: inf, 0.9, 0.5, 0 (frame 1), -inf. At 0.5 frames 2 and 3 count: Pr = (1 + 1) / 2 and
    # Re = (1 + 1) / 2 visible frames: the absent frame's overlap 1 enters the recall's numerator too
    np.testing.assert_allclose(scores.thresholds, [np.inf, 0.9, 0.5, 0.0, -np.inf])
    np.testing.assert_allclose(scores.recall, [0.0, 0.5, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(scores.precision, [1.0, 1.0, 1.0, 2 / 3, 2 / 3])
    assert scores.f_score == pytest.approx(1.0) and scores.best_index == 2


def test_missing_trax_is_a_one_line_install_hint(monkeypatch, capsys):
    from dcfre.cli import main

    monkeypatch.setitem(sys.modules, "trax", None)  # as if vot-trax were not installed
    assert main(["vot", "--preset", PRESET]) == 2
    err = capsys.readouterr().err
    assert "pip install vot-trax==4.0.2" in err and len(err.strip().splitlines()) == 1
