"""Tests of ground-truth parsing and dataset loaders on tiny fixture datasets built in tmp_path."""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from dcfre.data import annotations, folder, ltb35, otb, uav123
from dcfre.data.loaders import DATASET_NAMES, load_dataset
from dcfre.data.sequence import UAV123_ATTRIBUTES
from dcfre.errors import AnnotationError, DatasetError, InputError

_ok, _JPEG = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))
JPEG = _JPEG.tobytes()


def touch_frames(directory: Path, names) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / name).write_bytes(JPEG)


def write_boxes(path: Path, boxes, sep=",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join("NaN" if np.isnan(v) else f"{v:g}" for v in row) for row in boxes]
    path.write_text("\n".join(lines) + "\n")


def boxes_for(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    boxes = np.round(rng.uniform(1, 100, (n, 4)), 2)
    boxes[n // 3] = np.nan
    return boxes


# --------------------------------------------------------------------------------------------- annotations


@pytest.mark.parametrize("sep", [",", "\t", " ", ", ", " \t", ";"])
def test_groundtruth_delimiters(tmp_path, sep):
    boxes = boxes_for(6)
    write_boxes(tmp_path / "gt.txt", boxes, sep)
    np.testing.assert_array_equal(annotations.read_groundtruth(tmp_path / "gt.txt"), boxes)


def test_groundtruth_mixed_lines_blank_nan_polygon_extra(tmp_path):
    polygon = [10, 20, 50, 18, 52, 60, 12, 62]
    text = "\n".join(
        [
            "# comment line",
            "1,2,3,4",
            "",  # blank line inside the file: an absent frame
            "nan,nan,nan,nan",
            "NaN 5 6 7",  # any NaN makes the row absent
            "5\t6\t7\t8\t0.9\t1",  # extra columns ignored
            ",".join(map(str, polygon)),
            "",
            "   ",  # trailing blank lines ignored
        ]
    )
    (tmp_path / "gt.txt").write_text(text)
    gt = annotations.read_groundtruth(tmp_path / "gt.txt")
    xs, ys = polygon[0::2], polygon[1::2]
    expected = [
        [1, 2, 3, 4],
        [np.nan] * 4,
        [np.nan] * 4,
        [np.nan] * 4,
        [5, 6, 7, 8],
        [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
    ]
    np.testing.assert_array_equal(gt, expected)


@pytest.mark.parametrize(
    "line, message",
    [("1,2,3", "expected 4"), ("1,2,x,4", "not a list of numbers"), ("1,2,inf,4", "infinite"), ("m1,2,3", "mask")],
)
def test_groundtruth_errors_name_file_and_line(tmp_path, line, message):
    (tmp_path / "gt.txt").write_text(f"1,2,3,4\n{line}\n")
    with pytest.raises(AnnotationError, match=rf"gt\.txt:2: .*{message}"):
        annotations.read_groundtruth(tmp_path / "gt.txt")


def test_groundtruth_missing_file(tmp_path):
    with pytest.raises(AnnotationError, match="not found"):
        annotations.read_groundtruth(tmp_path / "none.txt")


def test_uav123_attributes(tmp_path):
    flags = [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1]
    (tmp_path / "att.txt").write_text(",".join(map(str, flags)) + "\n")
    attrs = annotations.read_uav123_attributes(tmp_path / "att.txt")
    assert list(attrs) == list(UAV123_ATTRIBUTES)
    assert [attrs[n] for n in UAV123_ATTRIBUTES] == [bool(f) for f in flags]
    assert annotations.format_uav123_attributes(attrs) == ",".join(map(str, flags))
    (tmp_path / "short.txt").write_text("1,0,1\n")
    with pytest.raises(AnnotationError, match="expected 12 flags"):
        annotations.read_uav123_attributes(tmp_path / "short.txt")
    (tmp_path / "two.txt").write_text(" ".join(["2"] * 12))
    with pytest.raises(AnnotationError, match="expected 0 or 1"):
        annotations.read_uav123_attributes(tmp_path / "two.txt")


# --------------------------------------------------------------------------------------------- UAV123


def test_track_table_facts():
    table = uav123.track_table()
    uav = [t for t in table if t.subset == "UAV123"]
    assert len(uav) == 123 and len({t.folder for t in uav}) == 91
    assert len([t for t in table if t.subset == "UAV20L"]) == 20
    human = uav123.uav_human_names()
    assert len(human) == 45 and not set(human) & {"person1_s", "person2_s", "person3_s"}
    bird = {t.name: t for t in uav}["bird1_2"]
    assert (bird.folder, bird.first, bird.last) == ("bird1", 775, 1477)


def build_uav_root(root: Path, tracks, subset="UAV123", attributes=True) -> dict:
    """Frames only at the two ends of each track (the loader checks those), full annotation files."""
    truth = {}
    for index, track in enumerate(tracks):
        frames = root / "data_seq" / "UAV123" / track.folder
        touch_frames(frames, [f"{track.first:06d}.jpg", f"{track.last:06d}.jpg"])
        boxes = boxes_for(track.n_frames, seed=index)
        write_boxes(root / "anno" / subset / f"{track.name}.txt", boxes)
        if attributes:
            flags = [(index + k) % 2 for k in range(12)]
            (root / "anno" / subset / "att").mkdir(parents=True, exist_ok=True)
            (root / "anno" / subset / "att" / f"{track.name}.txt").write_text(",".join(map(str, flags)))
        truth[track.name] = boxes
    return truth


def table(subset, names):
    by_name = {t.name: t for t in uav123.track_table() if t.subset == subset}
    return [by_name[n] for n in names]


def test_load_uav123_split_track_and_nan_rows(tmp_path):
    tracks = table("UAV123", ["bird1_2", "bike2"])
    truth = build_uav_root(tmp_path / "Dataset" / "UAV123", tracks)
    sequences = uav123.load_uav123(tmp_path / "Dataset", names=["bird1_2", "bike2"])  # parent of UAV123/ accepted
    by_name = {s.name: s for s in sequences}
    bird = by_name["bird1_2"]
    assert len(bird) == 1477 - 775 + 1 == len(bird.groundtruth)
    assert bird.frames[0].name == "000775.jpg" and bird.frames[-1].name == "001477.jpg"
    assert bird.frames[0].parent.name == "bird1"
    np.testing.assert_array_equal(bird.groundtruth, truth["bird1_2"])
    assert bird.absent.sum() == 1 and bird.absent[len(bird) // 3]
    assert set(bird.attributes) == set(UAV123_ATTRIBUTES)
    assert len(by_name["bike2"]) == 553


def test_load_uav_human_has_45_tracks(tmp_path):
    human = table("UAV123", uav123.uav_human_names())
    build_uav_root(tmp_path, human, attributes=False)
    sequences = load_dataset("uav-human", tmp_path)
    assert len(sequences) == 45
    assert {s.name for s in sequences} == set(uav123.uav_human_names())
    assert all(len(s) == len(s.groundtruth) for s in sequences)


def test_load_uav20l(tmp_path):
    tracks = table("UAV20L", ["bird1"])
    truth = build_uav_root(tmp_path, tracks, subset="UAV20L", attributes=False)
    (sequence,) = uav123.load_uav20l(tmp_path, names=["bird1"])
    assert len(sequence) == 2437 and sequence.frames[-1].name == "002437.jpg"
    np.testing.assert_array_equal(sequence.groundtruth, truth["bird1"])


def test_uav123_errors(tmp_path):
    with pytest.raises(DatasetError, match="not a UAV123 root"):
        uav123.load_uav123(tmp_path)
    tracks = table("UAV123", ["bike3"])
    build_uav_root(tmp_path, tracks)
    with pytest.raises(DatasetError, match="unknown UAV123 track"):
        uav123.load_uav123(tmp_path, names=["bike99"])
    (tmp_path / "data_seq" / "UAV123" / "bike3" / "000433.jpg").unlink()
    with pytest.raises(DatasetError, match="000433.jpg"):
        uav123.load_uav123(tmp_path, names=["bike3"])
    touch_frames(tmp_path / "data_seq" / "UAV123" / "bike3", ["000433.jpg"])
    write_boxes(tmp_path / "anno" / "UAV123" / "bike3.txt", boxes_for(400))
    with pytest.raises(DatasetError, match="400 boxes"):
        uav123.load_uav123(tmp_path, names=["bike3"])


# --------------------------------------------------------------------------------------------- LTB35


def test_load_ltb35_both_layouts_and_tags(tmp_path):
    color = tmp_path / "car1"
    touch_frames(color / "color", [f"{i:08d}.jpg" for i in range(1, 6)])
    write_boxes(color / "groundtruth.txt", boxes_for(5))
    (color / "full_occlusion.tag").write_text("0\n0\n1\n0\n0\n")
    (color / "out_of_view.tag").write_text("0\n0\n0\n0\n0\n")
    flat = tmp_path / "yamaha"
    touch_frames(flat, [f"{i:08d}.jpg" for i in range(1, 12)])
    write_boxes(flat / "groundtruth.txt", boxes_for(11, seed=2))
    (tmp_path / "list.txt").write_text("car1\nyamaha\n")
    sequences = load_dataset("ltb35", tmp_path)
    assert [s.name for s in sequences] == ["car1", "yamaha"]
    car, yamaha = sequences
    assert car.frames[0] == color / "color" / "00000001.jpg" and len(car) == 5
    assert car.attributes == {"full_occlusion": True, "out_of_view": False}
    assert yamaha.frames[-1].name == "00000011.jpg" and len(yamaha) == 11
    np.testing.assert_array_equal(yamaha.groundtruth, boxes_for(11, seed=2))


def test_load_ltb35_missing_sequences_listed(tmp_path):
    with pytest.raises(DatasetError, match="ballet, bicycle"):
        ltb35.load_ltb35(tmp_path)


# --------------------------------------------------------------------------------------------- OTB


def build_otb(root: Path) -> None:
    touch_frames(root / "Basketball" / "img", [f"{i:04d}.jpg" for i in range(1, 5)])
    write_boxes(root / "Basketball" / "groundtruth_rect.txt", boxes_for(4), "\t")
    touch_frames(root / "BlurCar1" / "img", [f"{i:04d}.jpg" for i in range(247, 251)])
    write_boxes(root / "BlurCar1" / "groundtruth_rect.txt", boxes_for(4, 1), ",")
    touch_frames(root / "Board" / "img", [f"{i:05d}.jpg" for i in range(1, 4)])
    write_boxes(root / "Board" / "groundtruth_rect.txt", boxes_for(3, 2), " ")
    touch_frames(root / "Jogging" / "img", [f"{i:04d}.jpg" for i in range(1, 4)])
    write_boxes(root / "Jogging" / "groundtruth_rect.1.txt", boxes_for(3, 3))
    write_boxes(root / "Jogging" / "groundtruth_rect.2.txt", boxes_for(3, 4))
    touch_frames(root / "Human4" / "img", [f"{i:04d}.jpg" for i in range(1, 4)])
    (root / "Human4" / "groundtruth_rect.1.txt").write_text("")  # empty file, as in OTB-100
    write_boxes(root / "Human4" / "groundtruth_rect.2.txt", boxes_for(3, 5))
    touch_frames(root / "David" / "img", [f"{i:04d}.jpg" for i in range(1, 11)])
    write_boxes(root / "David" / "groundtruth_rect.txt", boxes_for(5, 6))
    (root / "notes").mkdir()


def test_load_otb(tmp_path, monkeypatch):
    monkeypatch.setitem(otb.OTB_FRAME_RANGES, "David", (4, 8))
    build_otb(tmp_path)
    sequences = {s.name: s for s in load_dataset("otb", tmp_path)}
    assert sorted(sequences) == sorted(
        ["Basketball", "BlurCar1", "Board", "Jogging.1", "Jogging.2", "Human4.2", "David"]
    )
    np.testing.assert_array_equal(sequences["Basketball"].groundtruth, boxes_for(4))
    np.testing.assert_array_equal(sequences["Board"].groundtruth, boxes_for(3, 2))
    assert sequences["BlurCar1"].frames[0].name == "0247.jpg"
    np.testing.assert_array_equal(sequences["Jogging.2"].groundtruth, boxes_for(3, 4))
    assert [p.name for p in sequences["David"].frames] == [f"{i:04d}.jpg" for i in range(4, 9)]
    assert [s.name for s in otb.load_otb(tmp_path, names=["Jogging"])] == ["Jogging.1", "Jogging.2"]


def test_load_otb_count_mismatch_raises(tmp_path):
    touch_frames(tmp_path / "Car" / "img", ["0001.jpg", "0002.jpg"])
    write_boxes(tmp_path / "Car" / "groundtruth_rect.txt", boxes_for(3))
    with pytest.raises(DatasetError, match="3 boxes for 2 images"):
        otb.load_otb(tmp_path)


# --------------------------------------------------------------------------------------------- folders


def test_load_folder_mixed_layouts(tmp_path):
    plain = tmp_path / "walk"
    touch_frames(plain / "img", ["1.jpg", "2.jpg", "10.jpg"])
    write_boxes(plain / "groundtruth.txt", boxes_for(3))
    (plain / "attributes.txt").write_text("0,0,0,0,1,0,1,0,0,0,0,1\n")
    vot = tmp_path / "bag"
    touch_frames(vot / "color", ["00000001.jpg", "00000002.jpg"])
    write_boxes(vot / "groundtruth.txt", boxes_for(2))
    (vot / "meta.json").write_text('{"attributes": {"OV": 1, "FOC": 0}}')
    build_otb(tmp_path / "otbish")
    (tmp_path / ".unfinished").mkdir()
    touch_frames(tmp_path / ".unfinished" / "img", ["1.jpg"])
    sequences = load_dataset("folder", tmp_path)
    names = [s.name for s in sequences]
    assert names == ["bag", "walk"]  # otbish/ has no images at its top, .unfinished/ is hidden
    walk = sequences[1]
    assert [p.name for p in walk.frames] == ["1.jpg", "2.jpg", "10.jpg"]
    assert walk.attributes["FOC"] and walk.attributes["SOB"] and not walk.attributes["SV"]
    assert sequences[0].attributes == {"OV": True, "FOC": False}
    assert [s.name for s in folder.load_folder(tmp_path / "walk")] == ["walk"]  # a single sequence folder


def test_load_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        folder.load_folder(tmp_path / "none")
    with pytest.raises(DatasetError, match="no sequence folders"):
        folder.load_folder(tmp_path)
    touch_frames(tmp_path / "frames_only" / "img", ["1.jpg"])
    with pytest.raises(DatasetError, match="no ground truth"):
        folder.load_folder(tmp_path)


def test_detect_layout_kinds(tmp_path):
    touch_frames(tmp_path / "a" / "img", ["1.jpg"])
    (tmp_path / "a" / "groundtruth_rect.txt").write_text("1,1,2,2\n")
    touch_frames(tmp_path / "b" / "img", ["1.jpg"])
    (tmp_path / "b" / "groundtruth.txt").write_text("1,1,2,2\n")
    touch_frames(tmp_path / "c" / "color", ["1.jpg"])
    (tmp_path / "c" / "groundtruth.txt").write_text("1,1,2,2\n")
    touch_frames(tmp_path / "d", ["1.jpg"])
    kinds = [folder.detect_layout(tmp_path / n).kind for n in "abcd"]
    assert kinds == ["otb", "plain", "vot", "frames"]


# --------------------------------------------------------------------------------------------- dispatch


def test_load_dataset_dispatch_errors(tmp_path):
    assert set(DATASET_NAMES) >= {"uav123", "uav20l", "uav-human", "ltb35", "otb", "folder", "synth-lt", "synth-human"}
    with pytest.raises(InputError, match="unknown dataset"):
        load_dataset("lasot", tmp_path)
    with pytest.raises(InputError, match="needs a root"):
        load_dataset("otb")


def test_load_dataset_synthetic_generates_once(tmp_path):
    sequences = load_dataset("synth_human", tmp_path, frames_scale=0.05)
    assert len(sequences) == 10
    assert all(len(s) == len(s.groundtruth) >= 60 for s in sequences)
    assert all(set(s.attributes) == set(UAV123_ATTRIBUTES) for s in sequences)
    suite_dir = tmp_path / "synth-human-x0.05"
    assert sequences[0].frames[0] == suite_dir / "synth-human-01" / "img" / "0001.jpg"
    stamp = os.stat(sequences[0].frames[0]).st_mtime_ns
    again = load_dataset("synth-human", tmp_path, frames_scale=0.05)
    assert os.stat(again[0].frames[0]).st_mtime_ns == stamp  # not regenerated
    np.testing.assert_array_equal(again[3].groundtruth, sequences[3].groundtruth)
