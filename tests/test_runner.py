"""Runner: result files, identical results across backends, resume after a kill, baselines, specs."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import imageio.v3 as iio
import numpy as np
import pytest

from dcfre.data.sequence import Sequence
from dcfre.errors import InputError
from dcfre.evaluation import metrics, report, trackers
from dcfre.evaluation.baselines import OpenCVTracker
from dcfre.evaluation.runner import (
    RunError,
    is_finished,
    load_result,
    read_result_file,
    result_paths,
    run_experiment,
)

TESTS_DIR = Path(__file__).resolve().parent
FRAME_SIZE = 96
TARGET = 20


# ------------------------------------------------------------------------------------------ data


def write_sequences(root: Path, lengths=(20, 14, 20, 10, 16)) -> None:
    """Tiny sequences: a textured square moving over a smooth noise background, PNG frames."""
    rng = np.random.default_rng(0)
    for index, n in enumerate(lengths):
        folder = root / f"seq{index}"
        (folder / "img").mkdir(parents=True)
        background = cv2.GaussianBlur(rng.integers(0, 255, (FRAME_SIZE, FRAME_SIZE, 3), dtype=np.uint8), (9, 9), 3)
        patch = rng.integers(0, 255, (TARGET, TARGET, 3), dtype=np.uint8)
        boxes = []
        for t in range(n):
            x, y = 20 + t * (1 + index % 2), 30 + t // 2
            frame = background.copy()
            frame[y:y + TARGET, x:x + TARGET] = patch
            iio.imwrite(folder / "img" / f"{t + 1:04d}.png", frame)
            boxes.append([x, y, TARGET, TARGET])
        boxes = np.array(boxes, float)
        if index == 1:
            boxes[5:8] = np.nan  # "absent" frames (the pixels stay: the scorer only reads the annotation)
        np.savetxt(folder / "groundtruth.txt", boxes, delimiter=",", fmt="%.6g")
        (folder / "meta.json").write_text(json.dumps({"attributes": {"FOC": index in (1, 2), "OV": index == 3}}))


def read_sequences(root: Path) -> list[Sequence]:
    """Build Sequence objects from the folders of :func:`write_sequences` (no dataset loader)."""
    out = []
    for folder in sorted(Path(root).iterdir()):
        attributes = json.loads((folder / "meta.json").read_text())["attributes"]
        gt = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
        out.append(Sequence(folder.name, sorted((folder / "img").glob("*.png")), gt, attributes))
    return out


@pytest.fixture(scope="module")
def sequences(tmp_path_factory):
    root = tmp_path_factory.mktemp("seqs")
    write_sequences(root)
    return read_sequences(root)


# ------------------------------------------------------------------------------------------ fake trackers


class FakeState:
    def __init__(self, box, confidence, present):
        self.box, self.confidence, self.present = box, confidence, present


class FakeTracker:
    """Deterministic: drifts right 0.5 px per frame; confidence = mean intensity of the frame."""

    delay = 0.0

    def initialize(self, frame, box):
        self.box, self.t = np.asarray(box, float), 0
        return FakeState(self.box, 1.0, True)

    def track(self, frame):
        time.sleep(self.delay)
        self.t += 1
        box = self.box + [0.5 * self.t, 0, 0, 0]
        return FakeState(box, float(np.asarray(frame).mean()) / 255.0, self.t % 5 != 0)


class SlowFakeTracker(FakeTracker):
    delay = 0.02


class ThreadProbe(FakeTracker):
    """Seen from inside a job: box x = process id, confidence = OpenCV threads, present = OMP_NUM_THREADS is 1."""

    def track(self, frame):
        box = np.array([os.getpid(), 0.0, 1.0, 1.0])
        return FakeState(box, float(cv2.getNumThreads()), os.environ.get("OMP_NUM_THREADS") == "1")


class BrokenTracker(FakeTracker):
    def track(self, frame):
        raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def fake_trackers():
    names = {"fake": FakeTracker, "slow-fake": SlowFakeTracker, "probe": ThreadProbe, "broken": BrokenTracker}
    for name, factory in names.items():
        trackers.register_tracker(name, factory)
    yield
    for name in names:
        trackers.unregister_tracker(name)


def _result_bytes(out_dir: Path) -> dict:
    return {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in sorted(out_dir.rglob("*.txt"))}


# ------------------------------------------------------------------------------------------ tests


def test_result_files_format_and_timing(sequences, tmp_path):
    seq = sequences[0]
    run = run_experiment(sequences[:2], ["fake"], tmp_path, progress=False)
    txt, timing = result_paths(tmp_path, "fake", seq.name)
    boxes, confidence, present = read_result_file(txt)
    assert len(boxes) == len(seq) == 20
    np.testing.assert_allclose(boxes[0], seq.init_box)
    assert confidence[0] == 1.0 and present[0]
    np.testing.assert_allclose(boxes[3], seq.init_box + [1.5, 0, 0, 0])
    assert not present[5] and present[6]
    # confidence is computed from the decoded frames, so frame decoding is really exercised
    first = iio.imread(seq.frames[1])
    assert confidence[1] == pytest.approx(first.mean() / 255.0, rel=1e-6)
    record = json.loads(timing.read_text())
    assert record["frames"] == 20 and record["seconds"] > 0 and record["fps"] == pytest.approx(20 / record["seconds"])
    assert run.results["fake"][seq.name].frames == 20
    assert sorted(run.ran) == sorted(("fake", s.name) for s in sequences[:2])
    assert not list(tmp_path.rglob("*.tmp"))


def test_backends_give_identical_result_files(sequences, tmp_path):
    from distributed import Client, LocalCluster

    specs = ["opencv-kcf", "fake"]
    threads_before = cv2.getNumThreads()
    serial = run_experiment(sequences, specs, tmp_path / "serial", workers=1, progress=False)
    pool = run_experiment(sequences, specs + ["probe"], tmp_path / "pool", workers=2, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1", protocol="tcp",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = run_experiment(sequences, specs, tmp_path / "dask", scheduler=cluster.scheduler_address,
                              progress=False)
        assert len(client.scheduler_info()["workers"]) == 1
    a = _result_bytes(tmp_path / "serial")
    b = {k: v for k, v in _result_bytes(tmp_path / "pool").items() if not k.startswith("probe/")}
    c = _result_bytes(tmp_path / "dask")
    assert len(a) == 2 * len(sequences)
    assert a == b == c
    assert len(serial.ran) == len(dask.ran) == 2 * len(sequences) and len(pool.ran) == 3 * len(sequences)
    # inside pool workers OpenCV runs single-threaded and the env limits were set before imports
    for result in pool.results["probe"].values():
        assert os.getpid() not in result.boxes[1:, 0]  # ran in worker processes
        np.testing.assert_array_equal(result.confidence[1:], 1.0)
        assert result.present[1:].all()
    # the caller's OpenCV thread count is restored after in-process runs
    assert cv2.getNumThreads() == threads_before


def test_resume_after_kill(sequences, tmp_path):
    out = tmp_path / "interrupted"
    root = Path(sequences[0].frames[0]).parents[2]
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import test_runner as t; from pathlib import Path;"
        "from dcfre.evaluation import trackers, runner;"
        "trackers.register_tracker('slow-fake', t.SlowFakeTracker);"
        "runner.run_experiment(t.read_sequences(Path(sys.argv[2])), ['slow-fake'], sys.argv[3], progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(TESTS_DIR), str(root), str(out)])
    deadline = time.monotonic() + 30
    try:
        while len(list(out.rglob("*.time.json"))) < 2:
            assert proc.poll() is None, "the run finished before it could be killed"
            assert time.monotonic() < deadline, "no results after 30 s"
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
    finished = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    done = sorted(p.name[: -len(".time.json")] for p in finished if p.name.endswith(".time.json"))
    assert 2 <= len(done) < len(sequences)

    run = run_experiment(sequences, ["slow-fake"], out, progress=False)
    assert sorted(name for _, name in run.skipped) == done
    assert sorted(name for _, name in run.ran) == sorted(set(s.name for s in sequences) - set(done))
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in finished.items())  # nothing rewritten

    fresh = run_experiment(sequences, ["slow-fake"], tmp_path / "fresh", progress=False)
    assert _result_bytes(out) == _result_bytes(tmp_path / "fresh")
    resumed = report.summarize(sequences, run.results).to_dict()["trackers"]["slow-fake"]
    uninterrupted = report.summarize(sequences, fresh.results).to_dict()["trackers"]["slow-fake"]
    for key in ("auc", "dp20", "f_score", "precision", "recall", "frames", "attributes"):
        assert resumed[key] == uninterrupted[key]


def test_skip_requires_same_frame_count(sequences, tmp_path):
    seq = sequences[0]
    run_experiment([seq], ["fake"], tmp_path, max_frames=5, progress=False)
    assert load_result(tmp_path, "fake", seq.name).frames == 5
    assert is_finished(tmp_path, "fake", seq, max_frames=5)
    assert not is_finished(tmp_path, "fake", seq)
    run = run_experiment([seq], ["fake"], tmp_path, progress=False)  # full length: recomputed
    assert run.ran == [("fake", seq.name)] and run.results["fake"][seq.name].frames == len(seq)


def test_failed_jobs_are_reported_and_others_saved(sequences, tmp_path):
    with pytest.raises(RunError, match="broken on"):
        run_experiment(sequences[:2], ["fake", "broken"], tmp_path, progress=False)
    assert all(is_finished(tmp_path, "fake", s) for s in sequences[:2])
    run = run_experiment(sequences[:2], ["fake", "broken"], tmp_path, progress=False, raise_on_error=False)
    assert len(run.failed) == 2 and "boom" in next(iter(run.failed.values()))
    assert len(run.skipped) == 2 and "broken" not in run.results


def test_tracker_specs_and_folder_names(tmp_path):
    assert trackers.tracker_dir_name("updt:global") == "updt@global"
    assert trackers.tracker_name_from_dir("updt@global") == "updt:global"
    names = trackers.available_trackers()
    assert names[:2] == ["opencv-csrt", "opencv-kcf"] and "fake" in names
    with pytest.raises(InputError, match="unknown tracker 'nope'.*opencv-csrt"):
        trackers.build_tracker("nope")
    with pytest.raises(InputError):
        trackers.build_tracker("a/b")
    presets = trackers.dcfre_presets()
    if presets:
        assert trackers.parse_spec(f"{presets[0]}:global") == (presets[0], "global")
        with pytest.raises(InputError, match="long-term mode"):
            trackers.parse_spec(f"{presets[0]}:sometimes")
        txt, _ = result_paths(tmp_path, f"{presets[0]}:local", "s")
        assert txt.parent.name == f"{presets[0]}@local"
    with pytest.raises(InputError):
        run_experiment([], ["nope"], tmp_path, progress=False)
    assert isinstance(trackers.build_tracker("opencv-csrt"), OpenCVTracker)


@pytest.mark.parametrize("kind", ["kcf", "csrt"])
def test_opencv_baselines_track_the_square(sequences, kind):
    seq = sequences[2]
    tracker = OpenCVTracker(kind, threads=1)
    frames = list(seq.iter_frames())
    state = tracker.initialize(frames[0], seq.init_box)
    assert state.present and state.confidence == 1.0
    boxes = [state.box] + [tracker.track(f).box for f in frames[1:]]
    assert np.mean(metrics.iou(np.array(boxes), seq.groundtruth)) > 0.6
    gray = tracker.track(cv2.cvtColor(frames[-1], cv2.COLOR_RGB2GRAY))  # gray frames accepted
    assert gray.box.shape == (4,) and isinstance(gray.present, bool)
    with pytest.raises(InputError):
        OpenCVTracker(kind).initialize(frames[0], [0, 0, 0, 5])


def test_runner_import_is_light():
    """Spawned workers import the runner before limiting threads: it must not pull in numpy/cv2/numba."""
    code = "import sys, dcfre.evaluation.runner; print(sorted({'numpy', 'cv2', 'numba'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=TESTS_DIR.parent).stdout
    assert out.strip() == "[]"
