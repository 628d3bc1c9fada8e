"""Tests of the synthetic long-term benchmark: determinism, ground truth vs pixels, absences, attributes, disk layout."""

import json

import cv2
import numpy as np
import pytest

from dcfre.cli import main as cli_main
from dcfre.data import synthetic
from dcfre.data.folder import load_folder
from dcfre.data.sequence import UAV123_ATTRIBUTES
from dcfre.data.synthetic import SceneConfig, SyntheticScene, make_sequence
from dcfre.errors import InputError

SMALL = {"n_frames": 150, "size": (240, 160), "target_size": 28.0, "duration_scale": 0.5, "clear_start": 15}
# no blur, no noise: pixels change only where the target is drawn
CLEAN = dict(SMALL, n_blur=0, motion_blur=False, noise_sigma=0.0)


@pytest.fixture(scope="module")
def clean_sequence():
    return make_sequence(seed=11, n_distractors=2, n_occlusions=1, n_out_of_view=1, **CLEAN)


def test_same_seed_same_frames_other_seed_differs():
    a = make_sequence(seed=4, n_distractors=1, **dict(SMALL, n_frames=40))
    b = make_sequence(seed=4, n_distractors=1, **dict(SMALL, n_frames=40))
    c = make_sequence(seed=5, n_distractors=1, **dict(SMALL, n_frames=40))
    assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames))
    np.testing.assert_array_equal(a.groundtruth, b.groundtruth)
    assert a.attributes == b.attributes and a.events == b.events
    assert not np.array_equal(a.frames[0], c.frames[0])


def test_frames_shape_and_first_box(clean_sequence):
    seq = clean_sequence
    assert len(seq.frames) == 150 and seq.frames[0].shape == (160, 240, 3) and seq.frames[0].dtype == np.uint8
    _x, _y, w, h = seq.init_box
    assert np.sqrt(w * h) == pytest.approx(28.0, rel=1e-6)  # first box has the configured size
    assert seq.visible_fraction[0] == 1.0


def _target_pixels(scene: SyntheticScene, index: int) -> np.ndarray:
    """Pixels that change when the target is drawn (independent of the ground truth)."""
    with_target = scene.render(index).astype(int)
    without = scene.render(index, draw_target=False).astype(int)
    return np.abs(with_target - without).sum(axis=2) > 0


def test_groundtruth_matches_drawn_target(clean_sequence):
    seq = clean_sequence
    scene = seq.scene
    checked_full = 0
    for index in range(0, len(seq.frames), 3):
        mask = _target_pixels(scene, index)
        box = seq.groundtruth[index]
        if not np.isfinite(box).all():
            continue
        x0, y0 = box[0] - 1, box[1] - 1  # 1-based OTB -> 0-based pixel edges
        x1, y1 = x0 + box[2], y0 + box[3]
        rows, cols = np.nonzero(mask)
        assert len(rows), f"frame {index}: box given but no target pixel drawn"
        # every changed pixel lies inside the box (pixel [c, c+1) overlaps [x0, x1))
        assert cols.min() >= np.floor(x0) and cols.max() <= np.ceil(x1) - 1
        assert rows.min() >= np.floor(y0) and rows.max() <= np.ceil(y1) - 1
        if seq.visible_fraction[index] == 1.0:
            # fully visible: the drawn target spans the box, edge to edge
            assert abs(cols.min() - x0) <= 1 and abs(cols.max() + 1 - x1) <= 1
            assert abs(rows.min() - y0) <= 1 and abs(rows.max() + 1 - y1) <= 1
            inner = mask[int(np.ceil(y0)) : int(np.floor(y1)), int(np.ceil(x0)) : int(np.floor(x1))]
            assert inner.mean() > 0.9
            checked_full += 1
    assert checked_full > 10


def test_absent_frames_show_almost_no_target(clean_sequence):
    seq = clean_sequence
    absent = np.flatnonzero(~np.isfinite(seq.groundtruth).all(axis=1))
    assert len(absent) > 10
    full_boxes = seq.scene.script.target_boxes
    for index in absent[::3]:
        area = full_boxes[index, 2] * full_boxes[index, 3]
        perimeter = 2 * (full_boxes[index, 2] + full_boxes[index, 3])
        visible_pixels = _target_pixels(seq.scene, index).sum()
        assert visible_pixels <= 0.1 * area + perimeter


def test_absences_come_from_occlusion_and_out_of_view_events(clean_sequence):
    seq = clean_sequence
    kinds = {e["kind"] for e in seq.events}
    assert {"occlusion", "out_of_view"} <= kinds
    windows = [(e["start"], e["stop"], e["kind"]) for e in seq.events if e["kind"] in ("occlusion", "out_of_view")]
    absent = np.flatnonzero(~np.isfinite(seq.groundtruth).all(axis=1))
    for index in absent:
        assert any(start <= index < stop for start, stop, _ in windows), f"frame {index} absent outside events"
    for start, stop, kind in windows:  # every event hides the target for a while
        assert (~np.isfinite(seq.groundtruth[start:stop, 0])).sum() >= 3, kind
    assert seq.attributes["FOC"] and seq.attributes["OV"] and seq.attributes["SOB"]


def test_out_of_view_returns_at_another_place():
    seq = make_sequence(seed=2, n_occlusions=0, n_out_of_view=1, n_fast_motion=0, **CLEAN)
    gt = seq.groundtruth
    absent = ~np.isfinite(gt).all(axis=1)
    first, last = np.flatnonzero(absent)[[0, -1]]
    before, after = gt[first - 1], gt[last + 1]
    centre_before = before[:2] + before[2:] / 2
    centre_after = after[:2] + after[2:] / 2
    assert np.hypot(*(centre_after - centre_before)) > 40  # re-enters at another edge


def test_attributes_consistent_with_groundtruth(clean_sequence):
    seq = clean_sequence
    gt = seq.groundtruth
    present = np.isfinite(gt).all(axis=1)
    centres = gt[:, :2] + gt[:, 2:] / 2
    steps = np.hypot(*(centres[1:] - centres[:-1]).T)
    assert seq.attributes["FM"] == bool(np.nanmax(steps) > 20)
    frame_w, frame_h = 240, 160
    touches_edge = (gt[present, 0] <= 1.0) | (gt[present, 1] <= 1.0)
    touches_edge |= (gt[present, 0] - 1 + gt[present, 2] >= frame_w) | (gt[present, 1] - 1 + gt[present, 3] >= frame_h)
    assert seq.attributes["OV"] and touches_edge.any()  # clipped boxes at the border when leaving the view
    assert seq.attributes["VC"] is False and seq.attributes["BC"] is False
    assert list(seq.attributes) == list(UAV123_ATTRIBUTES)


def test_quiet_sequence_has_no_absence_and_flags_off():
    seq = make_sequence(
        seed=3, n_occlusions=0, n_out_of_view=0, n_fast_motion=0, n_distractors=0, illumination=0.0, zoom_variation=0.0,
        scale_variation=0.0, aspect_variation=0.0, **dict(CLEAN, n_frames=80),
    )  # fmt: skip
    assert np.isfinite(seq.groundtruth).all()
    flags = seq.attributes
    assert not any(flags[k] for k in ("FOC", "OV", "SOB", "IV", "SV", "ARC", "BC"))


def test_camouflage_sets_background_clutter():
    seq = make_sequence(seed=1, camouflage=True, target_photo="coffee", **dict(CLEAN, n_frames=20))
    assert seq.attributes["BC"] and seq.scene.sources["background_photo"] == "coffee"


def test_target_is_textured():
    seq = make_sequence(seed=8, **dict(CLEAN, n_frames=2))
    x, y, w, h = seq.groundtruth[0]
    patch = seq.frames[0][int(y) : int(y - 1 + h), int(x) : int(x - 1 + w)]
    gray = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY).astype(float)
    assert gray.std() > 10  # something for a correlation filter to lock on to


def test_config_validation():
    with pytest.raises(InputError):
        SceneConfig(n_frames=1)
    with pytest.raises(InputError):
        SceneConfig(background="moon-base")
    with pytest.raises(InputError):
        SceneConfig(target_size=500)


def test_suite_configs():
    lt = synthetic.suite_configs("synth-lt")
    human = synthetic.suite_configs("synth-human")
    assert len(lt) == 20 and len(human) == 10
    assert all(300 <= c.n_frames <= 1000 and (c.width, c.height) == (640, 360) for c in lt)
    assert all(300 <= c.n_frames <= 800 and c.n_distractors >= 3 and c.target_aspect > 1.5 for c in human)
    assert all(c.n_out_of_view >= 1 for c in lt)
    assert len({c.seed for c in lt + human}) == 30 and len({c.name for c in lt + human}) == 30
    assert synthetic.suite_configs("synth-lt") == lt  # deterministic
    short = synthetic.suite_configs("synth-lt", frames_scale=0.25)
    assert all(s.n_frames < c.n_frames for s, c in zip(short, lt))
    with pytest.raises(InputError):
        synthetic.suite_configs("synth-other")


def test_write_sequence_layout_idempotent_and_loadable(tmp_path):
    config = SceneConfig(seed=21, n_frames=40, width=160, height=120, target_size=24.0, name="tiny", duration_scale=0.3,
                         clear_start=10, n_distractors=1)  # fmt: skip
    folder = synthetic.write_sequence(config, tmp_path)
    assert folder == tmp_path / "tiny"
    assert sorted(p.name for p in (folder / "img").iterdir())[:2] == ["0001.jpg", "0002.jpg"]
    assert len(list((folder / "img").iterdir())) == 40
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["fingerprint"] == config.fingerprint() and meta["num_frames"] == 40
    (sequence,) = load_folder(folder)
    scene = SyntheticScene(config)
    np.testing.assert_allclose(sequence.groundtruth, scene.groundtruth, atol=1e-4)
    assert sequence.attributes == scene.attributes
    frame = cv2.imread(str(folder / "img" / "0005.jpg"))[:, :, ::-1]
    assert np.abs(frame.astype(int) - scene.render(4).astype(int)).mean() < 5  # JPEG quality 90
    stamp = (folder / "img" / "0001.jpg").stat().st_mtime_ns
    synthetic.write_sequence(config, tmp_path)
    assert (folder / "img" / "0001.jpg").stat().st_mtime_ns == stamp  # finished: skipped
    changed = SceneConfig(**{**config.__dict__, "seed": 22})
    synthetic.write_sequence(changed, tmp_path)  # different config: replaced
    assert json.loads((folder / "meta.json").read_text())["fingerprint"] == changed.fingerprint()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]


def test_write_sequence_is_atomic_on_failure(tmp_path, monkeypatch):
    config = SceneConfig(
        seed=1, n_frames=20, width=96, height=64, target_size=16.0, name="broken", duration_scale=0.3, clear_start=5
    )
    calls = {"n": 0}
    real_encode = cv2.imencode

    def failing_encode(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 10:
            raise RuntimeError("disk full")
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(synthetic.cv2, "imencode", failing_encode)
    with pytest.raises(RuntimeError, match="disk full"):
        synthetic.write_sequence(config, tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither a half sequence nor a temporary folder


def test_cli_synth(tmp_path, monkeypatch, capsys):
    tiny = [
        SceneConfig(seed=s, n_frames=25, width=96, height=64, target_size=16.0, name=f"synth-lt-{s:02d}", duration_scale=0.3, clear_start=5)
        for s in (1, 2)
    ]  # fmt: skip
    monkeypatch.setattr(synthetic, "suite_configs", lambda *a, **k: tiny)
    (tmp_path / ".synth-lt-01.tmp-4194310").mkdir()  # left by a dead process (pid above Linux's maximum)
    assert (
        cli_main(["synth", "--suite", "synth-lt", "--out", str(tmp_path), "--seed", "3", "--frames-scale", "0.5"]) == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synth-lt-01", "synth-lt-02"]
    assert cli_main(["synth", "--suite", "synth-lt", "--out", str(tmp_path)]) == 0
    assert "already complete" in capsys.readouterr().out


def test_make_sequence_speed():
    import time

    start = time.perf_counter()
    make_sequence(seed=0, n_frames=100, size=(640, 360), n_distractors=3)
    assert time.perf_counter() - start < 5.0  # ~1-2 s on one core; generous for a loaded machine
