"""Tests of dcfre.io: frame decoding, video, sources, boxes, result files and annotated videos."""

import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from dcfre import io
from dcfre.errors import DatasetError, DcfreError, FrameReadError, InputError


@pytest.fixture(scope="module")
def photo():
    return skdata.astronaut()[::4, ::4].copy()  # (128, 128, 3) uint8


# --------------------------------------------------------------------------------------------- read_frame


def test_png_rgb_and_gray_roundtrip_exactly(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "rgb.png")
    Image.fromarray(photo[:, :, 1]).save(tmp_path / "gray.png")
    rgb = io.read_frame(tmp_path / "rgb.png")
    gray = io.read_frame(tmp_path / "gray.png")
    assert rgb.dtype == np.uint8 and rgb.shape == photo.shape and rgb.flags.writeable
    np.testing.assert_array_equal(rgb, photo)
    assert gray.shape == photo.shape[:2]
    np.testing.assert_array_equal(gray, photo[:, :, 1])


def test_jpeg_is_rgb_not_bgr(tmp_path):
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 250
    Image.fromarray(red).save(tmp_path / "red.jpg", quality=95)
    frame = io.read_frame(tmp_path / "red.jpg")
    assert frame[..., 0].mean() > 200 and frame[..., 2].mean() < 30


def test_rgba_drops_alpha(tmp_path, photo):
    alpha = np.full(photo.shape[:2], 7, np.uint8)
    Image.fromarray(np.dstack([photo, alpha])).save(tmp_path / "rgba.png")
    np.testing.assert_array_equal(io.read_frame(tmp_path / "rgba.png"), photo)


def test_palette_image_becomes_rgb(tmp_path, photo):
    palette = Image.fromarray(photo).quantize(colors=16)
    palette.save(tmp_path / "pal.png")
    expected = np.array(palette.convert("RGB"))
    frame = io.read_frame(tmp_path / "pal.png")
    assert frame.shape == photo.shape
    np.testing.assert_array_equal(frame, expected)


def test_16bit_gray_png_scaled_by_257(tmp_path):
    values = np.linspace(0, 65535, 64 * 64).astype(np.uint16).reshape(64, 64)
    cv2.imwrite(str(tmp_path / "g16.png"), values)
    frame = io.read_frame(tmp_path / "g16.png")
    assert frame.dtype == np.uint8 and frame.shape == (64, 64)
    expected = np.floor(values.astype(np.float64) / 257.0 + 0.5)  # independent rounding of v / 257
    assert np.abs(frame.astype(int) - expected).max() <= 1
    assert frame.max() == 255 and frame.min() == 0


def test_16bit_rgb_png(tmp_path, photo):
    wide = photo.astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "c16.png"), wide[:, :, ::-1])
    frame = io.read_frame(tmp_path / "c16.png")
    assert frame.shape == photo.shape and frame.dtype == np.uint8
    assert np.abs(frame.astype(int) - photo.astype(int)).max() <= 1


def test_float_tiff_in_unit_range(tmp_path, photo):
    cv2.imwrite(str(tmp_path / "f.tif"), (photo[:, :, ::-1] / 255.0).astype(np.float32))
    Image.fromarray((photo[:, :, 0] / 255.0).astype(np.float32), mode="F").save(tmp_path / "g.tif")
    colour = io.read_frame(tmp_path / "f.tif")
    gray = io.read_frame(tmp_path / "g.tif")
    assert colour.shape == photo.shape and np.abs(colour.astype(int) - photo).max() <= 1
    assert gray.shape == photo.shape[:2] and np.abs(gray.astype(int) - photo[:, :, 0]).max() <= 1


def test_to_uint8_float_above_one_is_clipped_and_nan_zero():
    out = io.to_uint8(np.array([[np.nan, -5.0, 100.4, 300.0]]))
    np.testing.assert_array_equal(out, [[0, 0, 100, 255]])


def test_missing_empty_and_directory_raise_with_name(tmp_path):
    with pytest.raises(FrameReadError, match="nothere.jpg"):
        io.read_frame(tmp_path / "nothere.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(FrameReadError, match="empty.jpg"):
        io.read_frame(tmp_path / "empty.jpg")
    with pytest.raises(FrameReadError, match="not a file"):
        io.read_frame(tmp_path)
    (tmp_path / "folder.jpg").mkdir()  # the JPEG path reads first and checks only on failure
    with pytest.raises(FrameReadError, match="folder.jpg.*not a file|not a file.*folder.jpg"):
        io.read_frame(tmp_path / "folder.jpg")


def test_garbage_file_raises(tmp_path):
    (tmp_path / "junk.jpg").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(FrameReadError, match="junk.jpg"):
        io.read_frame(tmp_path / "junk.jpg")


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9, 0.999])
def test_truncated_jpeg_raises(tmp_path, photo, keep):
    _ok, data = cv2.imencode(".jpg", photo[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    data = data.tobytes()
    (tmp_path / "cut.jpg").write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FrameReadError, match="cut.jpg"):
        io.read_frame(tmp_path / "cut.jpg")


def _pillow_frame(path):
    """Reference decoding: Pillow alone (the path every non-JPEG file takes)."""
    from dcfre.frames import _pil_to_array

    with Image.open(path) as image:
        image.load()
        return _pil_to_array(image)


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"subsampling": 0}, {"exif_orientation": 6}])
def test_jpeg_decodes_to_pillows_pixels(tmp_path, photo, mode, options):
    """OpenCV decodes complete 8-bit gray/colour JPEGs, Pillow the rest; either way the pixels are Pillow's
    (the EXIF orientation is not applied, a gray file stays 2-D)."""
    options = dict(options)
    image = Image.fromarray(photo).convert(mode)
    orientation = options.pop("exif_orientation", None)
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    path = tmp_path / "frame.jpeg"
    image.save(path, quality=90, **options)
    from dcfre.frames import _read_jpeg_with_opencv

    assert (_read_jpeg_with_opencv(path.read_bytes()) is None) == (mode == "CMYK")  # CMYK: left to Pillow
    frame = io.read_frame(path)
    expected = _pillow_frame(path)
    assert frame.dtype == np.uint8 and frame.shape == expected.shape == ((128, 128) if mode == "L" else (128, 128, 3))
    np.testing.assert_array_equal(frame, expected)
    assert frame.flags.writeable


def test_jpeg_frame_header():
    from dcfre.frames import _jpeg_frame_header

    app0 = b"\xff\xe0\x00\x04ab"
    sof = b"\xff\xc2\x00\x0b\x08\x00\x10\x00\x20\x03"  # progressive, 8 bits, 16x32, 3 components
    assert _jpeg_frame_header(b"\xff\xd8" + app0 + b"\xff\xff" + sof + b"\x01\x22\x00") == (8, 3)
    assert _jpeg_frame_header(b"\xff\xd8" + app0) is None  # cut before the frame header
    assert _jpeg_frame_header(b"\x89PNG\r\n") is None
    assert _jpeg_frame_header(b"\xff\xd8\x00\x00\x00\x00") is None  # not a marker


def test_jpeg_with_bytes_after_the_end_marker_is_read_like_pillow(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "a.jpg", quality=90)
    (tmp_path / "padded.jpg").write_bytes((tmp_path / "a.jpg").read_bytes() + b"\x00" * 16)
    np.testing.assert_array_equal(io.read_frame(tmp_path / "padded.jpg"), _pillow_frame(tmp_path / "a.jpg"))


def test_truncated_png_raises(tmp_path, photo):
    Image.fromarray(photo).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(FrameReadError, match="cut.png"):
        io.read_frame(tmp_path / "cut.png")


# --------------------------------------------------------------------------------------------- video


def _write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> None:
    height, width = frames[0].shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", quality=9, macro_block_size=1
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def _colour_frames(n=6, size=(48, 64)):
    frames = []
    for i in range(n):
        frame = np.zeros(size + (3,), np.uint8)
        frame[..., i % 3] = 200  # red, green, blue, red, ...
        frames.append(frame)
    return frames


def test_iter_video_decodes_rgb_frames(tmp_path):
    frames = _colour_frames()
    _write_video(tmp_path / "v.mp4", frames)
    decoded = list(io.iter_video(tmp_path / "v.mp4"))
    assert len(decoded) == len(frames)
    for original, got in zip(frames, decoded):
        assert got.shape == original.shape and got.dtype == np.uint8
        assert np.abs(got.astype(float).mean(axis=(0, 1)) - original.mean(axis=(0, 1))).max() < 12


def test_variable_frame_rate_video_yields_each_stored_frame_once(tmp_path):
    """30 frames at 10 fps with a 1 s pause after frame 15: ffmpeg's constant-rate default would
    decode 41 frames (duplicates in the pause); every stored frame once is what OpenCV reads too."""
    path = tmp_path / "vfr.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
         "-frames:v", "30", "-vf", "setpts='(N/10+gte(N,15))/TB'", "-fps_mode", "passthrough",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    decoded = list(io.iter_video(path))
    capture = cv2.VideoCapture(str(path))
    reference = []
    ok, frame = capture.read()
    while ok:
        reference.append(frame[:, :, ::-1])
        ok, frame = capture.read()
    capture.release()
    assert len(decoded) == len(reference) == 30
    for got, expected in zip(decoded, reference):
        assert np.abs(got.astype(float) - expected).mean() < 3  # the same frame, in the same order


def test_iter_video_errors(tmp_path):
    with pytest.raises(FrameReadError, match="missing.mp4"):
        list(io.iter_video(tmp_path / "missing.mp4"))
    (tmp_path / "bad.mp4").write_bytes(b"\x00\x01not a video" * 300)
    with pytest.raises(FrameReadError, match="bad.mp4"):
        list(io.iter_video(tmp_path / "bad.mp4"))


# --------------------------------------------------------------------------------------------- sources


def _save_frames(folder: Path, names, size=(24, 32)):
    folder.mkdir(parents=True, exist_ok=True)
    for value, name in enumerate(names):
        Image.fromarray(np.full(size + (3,), value * 10, np.uint8)).save(folder / name)


def test_open_source_folder_of_frames_natural_order(tmp_path):
    _save_frames(tmp_path / "clip", ["1.png", "2.png", "10.png", "9.png"])
    source = io.open_source(tmp_path / "clip")
    assert [p.name for p in source.frames] == ["1.png", "2.png", "9.png", "10.png"]
    assert source.groundtruth is None and len(source) == 4 and source.num_frames == 4
    assert source.frame_size == (32, 24)
    assert [int(f[0, 0, 0]) for f in source] == [0, 10, 30, 20]


def test_open_source_otb_layout_uses_first_target(tmp_path):
    seq = tmp_path / "Jogging"
    _save_frames(seq / "img", ["0001.jpg", "0002.jpg"])
    (seq / "groundtruth_rect.1.txt").write_text("1\t2\t3\t4\n5\t6\t7\t8\n")
    (seq / "groundtruth_rect.2.txt").write_text("9,9,9,9\n9,9,9,9\n")
    source = io.open_source(seq)
    np.testing.assert_array_equal(source.groundtruth, [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_open_source_vot_layouts(tmp_path):
    color = tmp_path / "color_seq"
    _save_frames(color / "color", ["00000001.jpg", "00000002.jpg"])
    (color / "groundtruth.txt").write_text("1,1,5,5\nnan,nan,nan,nan\n")
    root = tmp_path / "root_seq"
    _save_frames(root, ["00000001.jpg", "00000002.jpg", "00000003.jpg"])
    (root / "groundtruth.txt").write_text("1,1,5,5\n2,2,5,5\n3,3,5,5\n")
    src = io.open_source(color)
    assert len(src) == 2 and np.isnan(src.groundtruth[1]).all()
    assert len(io.open_source(root)) == 3


def test_open_source_plain_layout(tmp_path):
    seq = tmp_path / "plain"
    _save_frames(seq / "img", ["0001.jpg", "0002.jpg"])
    (seq / "groundtruth.txt").write_text("1 2 3 4\n1 2 3 4\n")
    assert io.open_source(seq).groundtruth.shape == (2, 4)


def test_open_source_mismatched_groundtruth_raises(tmp_path):
    seq = tmp_path / "plain"
    _save_frames(seq / "img", ["0001.jpg", "0002.jpg"])
    (seq / "groundtruth.txt").write_text("1 2 3 4\n")
    with pytest.raises(DatasetError, match="1 boxes for 2 frames"):
        io.open_source(seq)


def test_open_source_video(tmp_path):
    _write_video(tmp_path / "clip.mp4", _colour_frames(4, (40, 56)))
    source = io.open_source(tmp_path / "clip.mp4")
    assert source.name == "clip" and source.num_frames is None and source.groundtruth is None
    assert source.frame_size == (56, 40) and source.fps == pytest.approx(10.0)
    with pytest.raises(TypeError):
        len(source)
    assert sum(1 for _ in source) == 4


def test_open_source_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        io.open_source(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty folder"):
        io.open_source(tmp_path / "empty")
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "readme.txt").write_text("hi")
    with pytest.raises(DatasetError, match="no images"):
        io.open_source(tmp_path / "texts")
    _save_frames(tmp_path, ["single.png"])
    with pytest.raises(InputError, match="single image"):
        io.open_source(tmp_path / "single.png")
    (tmp_path / "notvideo.mp4").write_bytes(b"garbage" * 100)
    with pytest.raises(FrameReadError, match="notvideo.mp4"):
        io.open_source(tmp_path / "notvideo.mp4")


# --------------------------------------------------------------------------------------------- parse_box


@pytest.mark.parametrize("text", ["10,20,30,40", "10, 20, 30, 40", "10 20 30 40", " [10,20,30,40] ", "10.0,20,3e1,40"])
def test_parse_box_accepts_variants(text):
    np.testing.assert_array_equal(io.parse_box(text), [10, 20, 30, 40])


@pytest.mark.parametrize("text", ["10,20,30", "10,20,30,40,50", "a,b,c,d", "10,20,0,40", "10,20,-3,4", "nan,1,2,3", ""])
def test_parse_box_rejects_malformed(text):
    with pytest.raises(InputError):
        io.parse_box(text)


# --------------------------------------------------------------------------------------------- results


def test_result_writer_roundtrip(tmp_path):
    rng = np.random.default_rng(1)
    boxes = rng.uniform(-50, 500, (20, 4))
    conf = rng.uniform(0, 3, 20)
    present = rng.random(20) < 0.7
    with io.ResultWriter(tmp_path / "out" / "seq.txt") as writer:
        for b, c, p in zip(boxes, conf, present):
            writer.write(b, c, p)
    got_boxes, got_conf, got_present = io.read_results(tmp_path / "out" / "seq.txt")
    np.testing.assert_allclose(got_boxes, boxes, atol=6e-5)
    np.testing.assert_allclose(got_conf, conf, rtol=1e-8)
    np.testing.assert_array_equal(got_present, present)


def test_result_writer_lines_survive_a_crash(tmp_path):
    path = tmp_path / "crash.txt"
    script = textwrap.dedent(
        f"""
        import os
        from dcfre.io import ResultWriter
        writer = ResultWriter({str(path)!r})
        for i in range(3):
            writer.write([i, i, 10, 10], 0.5, True)
        os._exit(1)  # no close, no flush at exit
        """
    )
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 1
    boxes, _conf, present = io.read_results(path)
    assert len(boxes) == 3 and present.all()
    np.testing.assert_array_equal(boxes[:, 0], [0, 1, 2])


def test_write_results_atomic_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "r" / "seq.txt"
    io.write_results_atomic(path, np.ones((3, 4)), [0.1, 0.2, 0.3], [True, False, True])
    io.write_results_atomic(path, np.full((2, 4), np.nan), [np.nan, 0.0], [False, False])
    boxes, conf, present = io.read_results(path)
    assert boxes.shape == (2, 4) and np.isnan(boxes).all() and not present.any()
    assert np.isnan(conf[0]) and conf[1] == 0.0
    assert sorted(p.name for p in path.parent.iterdir()) == ["seq.txt"]
    with pytest.raises(InputError):
        io.write_results_atomic(path, np.ones((3, 4)), [1, 2], [True, True, True])


def test_read_results_other_tools_and_errors(tmp_path):
    (tmp_path / "four.txt").write_text("1,2,3,4\nnan,nan,nan,nan\n\n")
    boxes, conf, present = io.read_results(tmp_path / "four.txt")
    assert boxes.shape == (2, 4) and np.isnan(boxes[1]).all()
    np.testing.assert_array_equal(present, [True, False])
    np.testing.assert_array_equal(conf, [1.0, 0.0])
    (tmp_path / "five.txt").write_text("1\t2\t3\t4\t0.7\n")
    _boxes, conf, present = io.read_results(tmp_path / "five.txt")
    assert conf[0] == 0.7 and present[0]
    (tmp_path / "bad.txt").write_text("1,2,3,4,0.5,1\n1,2,x,4,0.5,1\n")
    with pytest.raises(InputError, match="bad.txt:2"):
        io.read_results(tmp_path / "bad.txt")
    with pytest.raises(InputError, match="not found"):
        io.read_results(tmp_path / "missing.txt")


# --------------------------------------------------------------------------------------------- annotated video


def test_draw_annotations_colours_and_dashes():
    frame = np.zeros((120, 160), np.uint8)
    box = [40, 50, 100, 50]  # below the label in the top-left corner
    solid = io.draw_annotations(frame, box, "tracking", 0.8)
    dashed = io.draw_annotations(frame, box, "lost", 0.1)
    yellow = io.draw_annotations(frame, box, "redetected", None, gt_box=[10, 40, 20, 60])
    assert solid.shape == (120, 160, 3) and frame.sum() == 0  # input untouched
    top_solid = solid[50, 42:138]
    assert np.all(top_solid[:, 1] > 200) and np.all(top_solid[:, 0] < 50)  # solid green
    top_dashed = dashed[50, 42:138]
    red = (top_dashed[:, 0] > 200) & (top_dashed[:, 1] < 80)
    assert red.sum() > 20 and (~red).sum() > 20  # red with gaps
    assert np.all(yellow[50, 42:138, 0] > 200) and np.all(yellow[50, 42:138, 1] > 200)
    np.testing.assert_array_equal(yellow[70, 10], io.GROUNDTRUTH_COLOUR)
    label = solid[:20, :100]
    assert (label[..., 1] > 100).any()  # text drawn in the state colour


def test_annotated_video_writer_odd_size(tmp_path):
    path = tmp_path / "v" / "out.mp4"
    rng = np.random.default_rng(0)
    box = [60, 50, 40, 30]
    with io.AnnotatedVideoWriter(path, fps=12) as writer:
        for i, state in enumerate(["tracking", "lost", "redetected", "tracking", "tracking"]):
            shape = (97, 129) if i % 2 else (97, 129, 3)
            writer.write(
                rng.integers(0, 60, shape, dtype=np.uint8), box, state, confidence=0.5, gt_box=[20, 30, 20, 20]
            )
    assert writer.frames_written == 5
    decoded = list(io.iter_video(path))
    assert len(decoded) == 5 and decoded[0].shape == (98, 130, 3)
    left_edge = decoded[0][55:75, 60].astype(int)  # solid green edge of the tracking box
    assert left_edge[:, 1].mean() > 150 and left_edge[:, 0].mean() < 90


def test_annotated_video_writer_rejects_bad_input(tmp_path):
    writer = io.AnnotatedVideoWriter(tmp_path / "x.mp4")
    with pytest.raises(InputError, match="state"):
        writer.write(np.zeros((20, 20, 3), np.uint8), [1, 1, 5, 5], "confused")
    writer.write(np.zeros((20, 20, 3), np.uint8), [1, 1, 5, 5], "tracking")
    with pytest.raises(InputError, match="size changed"):
        writer.write(np.zeros((30, 20, 3), np.uint8), [1, 1, 5, 5], "tracking")
    writer.close()
    assert issubclass(InputError, DcfreError)
