"""``python -m dcfre track`` on every kind of SOURCE, its output format and its errors."""

import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from dcfre.cli import main
from dcfre.io import read_results

from test_tracking import moving_object_sequence

N = 12


@pytest.fixture(scope="module")
def clip():
    frames, gt = moving_object_sequence(n_frames=200, size=(180, 240), seed=5)  # slow motion: 200-frame period
    return frames[:N], gt[:N]


def _write_frames(folder, frames, pattern="{:04d}.jpg"):
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames, 1):
        iio.imwrite(folder / pattern.format(i), f, quality=95)


def _write_gt(path, gt, sep=","):
    path.write_text("\n".join(sep.join(f"{v:g}" for v in row) for row in gt) + "\n")


def _layouts(tmp_path, frames, gt):
    """Each SOURCE kind the command accepts, with whether it carries ground truth."""
    otb = tmp_path / "otb_seq"
    _write_frames(otb / "img", frames)
    _write_gt(otb / "groundtruth_rect.txt", gt + [1, 1, 0, 0], sep="\t")  # OTB: 1-based, tab separated
    vot = tmp_path / "vot_seq"
    _write_frames(vot / "color", frames, "{:08d}.jpg")
    _write_gt(vot / "groundtruth.txt", gt)
    vot_root = tmp_path / "vot_root_seq"
    _write_frames(vot_root, frames, "{:08d}.jpg")
    _write_gt(vot_root / "groundtruth.txt", gt)
    plain = tmp_path / "plain_seq"
    _write_frames(plain / "img", frames)
    _write_gt(plain / "groundtruth.txt", gt)
    bare = tmp_path / "frames_only"
    _write_frames(bare, frames)
    video = tmp_path / "clip.mp4"
    iio.imwrite(video, frames, fps=10, codec="libx264", macro_block_size=1)
    return {"otb": (otb, True), "vot": (vot, True), "vot-root": (vot_root, True), "plain": (plain, True),
            "folder": (bare, False), "video": (video, False)}


def test_every_source_kind_and_the_results_format(tmp_path, clip, capsys):
    frames, gt = clip
    init = ",".join(f"{v:g}" for v in gt[0])
    for kind, (source, has_gt) in _layouts(tmp_path, frames, gt).items():
        out = tmp_path / f"{kind}.txt"
        args = ["track", str(source), "--preset", "eco-hc", "--out", str(out), "--quiet"]
        if not has_gt:
            args += ["--init", init]
        assert main(args) == 0, kind
        lines = out.read_text().splitlines()
        assert len(lines) == N, kind
        first = [float(v) for v in lines[0].split(",")]
        assert len(first) == 6 and first[4] == 1.0 and first[5] == 1.0, kind
        boxes, confidence, present = read_results(out)
        expected_init = gt[0] + (1 if kind == "otb" else 0) * np.array([1, 1, 0, 0])
        assert np.allclose(boxes[0], expected_init, atol=1e-3), kind
        assert np.isfinite(boxes).all() and present.all(), kind
        # boxes stay in the init box's pixel convention: close to the ground truth shifted likewise
        shift = np.array([1, 1, 0, 0]) if kind == "otb" else 0
        centres = boxes[:, :2] + boxes[:, 2:] / 2
        true_centres = (gt + shift)[:, :2] + gt[:, 2:] / 2
        assert np.median(np.linalg.norm(centres - true_centres, axis=1)) < 6, kind
    assert "FPS" in capsys.readouterr().err


def test_save_video_writes_a_decodable_mp4(tmp_path, clip):
    frames, gt = clip
    src = tmp_path / "plain_seq"
    _write_frames(src / "img", frames)
    _write_gt(src / "groundtruth.txt", gt)
    video = tmp_path / "out.mp4"
    assert main(["track", str(src), "--preset", "eco-hc", "--save-video", str(video), "--quiet"]) == 0
    decoded = iio.imread(video)
    assert decoded.shape[0] == N


@pytest.mark.parametrize(
    "args, message",
    [
        (["track", "/nonexistent/seq"], "not found"),
        (["track", "{empty}"], ""),
        (["track", "{frames}", "--init", "1,2,3"], "x,y,w,h"),
        (["track", "{frames}", "--init", "a,b,c,d"], ""),
        (["track", "{frames}", "--init", "10,10,0,5"], "positive"),
        (["track", "{frames}", "--init", "5000,5000,10,10"], "outside"),
        (["track", "{frames}"], "--init"),
    ],
)
def test_bad_input_gives_one_line_error_and_nonzero_exit(tmp_path, clip, args, message):
    frames, _ = clip
    (tmp_path / "empty").mkdir()
    _write_frames(tmp_path / "frames", frames[:3])
    args = [a.format(empty=tmp_path / "empty", frames=tmp_path / "frames") for a in args]
    proc = subprocess.run([sys.executable, "-m", "dcfre", *args, "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dcfre: error:"), proc.stderr
    assert message in err[0]
    assert "Traceback" not in proc.stderr


def test_corrupt_frame_keeps_results_already_written(tmp_path, clip):
    frames, gt = clip
    src = tmp_path / "plain_seq"
    _write_frames(src / "img", frames)
    _write_gt(src / "groundtruth.txt", gt)
    bad = src / "img" / "0008.jpg"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated JPEG in the middle of the sequence
    out = tmp_path / "res.txt"
    proc = subprocess.run([sys.executable, "-m", "dcfre", "track", str(src), "--preset", "eco-hc", "--out", str(out),
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "0008.jpg" in proc.stderr and "Traceback" not in proc.stderr
    assert len(out.read_text().splitlines()) == 7  # frames 1..7 were tracked and kept
