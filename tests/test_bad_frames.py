"""``dcfre track --on-bad-frame``: a corrupt frame in the middle of a folder ends the run (default) or is skipped."""

import imageio.v3 as iio
import numpy as np
import pytest

from dcfre.cli import main
from dcfre.io import read_frame, read_results
from dcfre.tracker import Tracker

N = 10
BAD = 6  # 1-based number of the corrupt frame


@pytest.fixture(scope="module")
def clip():
    from dcfre.data.synthetic import make_sequence

    seq = make_sequence(seed=3, n_frames=N, size=(240, 180), target_size=36.0, n_out_of_view=0, n_occlusions=0,
                        n_fast_motion=0, clear_start=N)
    return seq.frames, seq.groundtruth


@pytest.fixture(scope="module")
def folder(tmp_path_factory, clip):
    frames, gt = clip
    root = tmp_path_factory.mktemp("bad_frames") / "frames"
    root.mkdir()
    for i, frame in enumerate(frames[:N], 1):
        iio.imwrite(root / f"{i:04d}.jpg", frame, quality=95)
    data = (root / f"{BAD:04d}.jpg").read_bytes()
    (root / f"{BAD:04d}.jpg").write_bytes(data[: len(data) // 2])  # truncated JPEG, as a broken copy leaves it
    return root, gt[0]


def _init(box) -> str:
    return ",".join(repr(float(v)) for v in box)  # exact: the reference run below starts from the same box


def test_default_is_a_clear_error_naming_the_file(folder, tmp_path, capsys):
    root, box = folder
    out = tmp_path / "out.txt"
    code = main(["track", str(root), "--init", _init(box), "--preset", "eco-hc", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"{BAD:04d}.jpg" in err and "Traceback" not in err
    assert len(read_results(out)[0]) == BAD - 1  # the lines before the bad frame were written


def test_skip_marks_the_frame_absent_and_tracks_on(folder, tmp_path, capsys):
    root, box = folder
    out = tmp_path / "out.txt"
    code = main(["track", str(root), "--init", _init(box), "--preset", "eco-hc", "--out", str(out), "--quiet",
                 "--on-bad-frame", "skip"])
    err = capsys.readouterr().err
    assert code == 0 and f"{BAD:04d}.jpg" in err and "frame skipped" in err and "1 undecodable frame(s)" in err
    boxes, confidence, present = read_results(out)
    assert len(boxes) == N
    bad = BAD - 1
    assert not present[bad] and confidence[bad] == 0 and present[np.arange(N) != bad].all()
    np.testing.assert_array_equal(boxes[bad], boxes[bad - 1])  # the last box

    # reference: the tracker run directly on the good frames only (it never sees the bad one)
    tracker = Tracker.from_preset("eco-hc")
    good = [p for p in sorted(root.glob("*.jpg")) if p.name != f"{BAD:04d}.jpg"]
    expected = [tracker.initialize(read_frame(good[0]), box).box.copy()]
    expected[0] = np.asarray(box, dtype=np.float64)
    expected += [tracker.track(read_frame(p)).box.copy() for p in good[1:]]
    np.testing.assert_allclose(np.delete(boxes, bad, axis=0), np.array(expected), atol=1e-3)


def test_skip_cannot_start_without_a_first_frame(tmp_path, clip, capsys):
    root = tmp_path / "frames"
    root.mkdir()
    frames, gt = clip
    for i, frame in enumerate(frames[:3], 1):
        iio.imwrite(root / f"{i:04d}.jpg", frame, quality=95)
    (root / "0001.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    code = main(["track", str(root), "--init", _init(gt[0]), "--preset", "eco-hc", "--quiet",
                 "--on-bad-frame", "skip"])
    assert code == 2 and "first frame cannot be decoded" in capsys.readouterr().err
