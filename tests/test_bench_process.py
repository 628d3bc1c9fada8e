"""Tests of the whole-process benchmark (dcfre.evaluation.bench_process, ``dcfre bench --whole-process``)."""

from __future__ import annotations

import json
import math
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from dcfre.cli import main
from dcfre.evaluation import bench_process
from dcfre.evaluation.baselines import OpenCVTracker
from dcfre.evaluation.bench_config import BenchError
from dcfre.io import read_results

from test_tracking import moving_object_sequence


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_track_commands():
    dcfre_run = bench_process.track_command("updt:global", "/data/seq", "/tmp/r.txt", max_frames=5)
    assert dcfre_run[1:5] == ["-m", "dcfre", "track", "/data/seq"]
    assert dcfre_run[dcfre_run.index("--preset") + 1] == "updt"
    assert dcfre_run[dcfre_run.index("--redetect") + 1] == "global"
    assert dcfre_run[-2:] == ["--max-frames", "5"]
    assert "--redetect" not in bench_process.track_command("eco-hc", "/d", "/r")
    baseline = bench_process.track_command("opencv-csrt", "/d", "/r")
    assert baseline[1:] == ["-m", "dcfre.evaluation.bench_process", "opencv-csrt", "/d", "/r"]


def test_run_process_times_each_line(tmp_path):
    out = tmp_path / "r.txt"
    # first line after ~0.3 s, then 4 more lines 0.1 s apart: known first-result time and steady rate
    code = (
        "import time, sys\n"
        f"f = open({str(out)!r}, 'w')\n"
        "time.sleep(0.3)\n"
        "for i in range(5):\n"
        "    f.write('1,2,3,4,1,1\\n'); f.flush()\n"
        "    time.sleep(0.1) if i < 4 else None\n"
        "time.sleep(0.2)\n"
    )
    run = bench_process.run_process(_python(code), out, env=None, timeout=60)
    assert run["frames"] == 5
    assert 0.3 <= run["first_result_s"] < run["wall_s"]
    assert run["wall_s"] >= 0.3 + 0.4 + 0.2
    # lines are noted when the caller sees them: only lower bounds of the times are exact
    assert 0 < run["steady_fps"] < float("inf")
    assert run["fps"] == pytest.approx(5 / run["wall_s"])
    assert run["cpu_s"] >= 0


def test_run_process_failure_is_reported(tmp_path):
    with pytest.raises(BenchError, match="exit 3: boom"):
        bench_process.run_process(_python("import sys; print('boom', file=sys.stderr); sys.exit(3)"),
                                  tmp_path / "r.txt", env=None, timeout=60)
    with pytest.raises(BenchError, match="no result line"):
        bench_process.run_process(_python("pass"), tmp_path / "r.txt", env=None, timeout=60)


@pytest.fixture(scope="module")
def sequence_folder(tmp_path_factory):
    frames, gt = moving_object_sequence(n_frames=200, size=(180, 240), seed=5)
    folder = tmp_path_factory.mktemp("seq") / "moving"
    (folder / "img").mkdir(parents=True)
    for index, frame in enumerate(frames[:8], 1):
        iio.imwrite(folder / "img" / f"{index:04d}.png", frame)  # lossless: the same frames in both runs
    np.savetxt(folder / "groundtruth.txt", gt[:8], fmt="%.4f", delimiter=",")
    return folder, frames[:8], gt[:8]


def test_baseline_process_loop_matches_the_tracker_in_memory(sequence_folder, tmp_path):
    folder, frames, gt = sequence_folder
    out = tmp_path / "csrt.txt"
    assert bench_process.track_baseline("opencv-csrt", str(folder), str(out)) == 0
    boxes, confidence, present = read_results(out)
    tracker = OpenCVTracker("csrt", threads=1)
    expected = [tracker.initialize(frames[0], gt[0])] + [tracker.track(frame) for frame in frames[1:]]
    np.testing.assert_allclose(boxes, [state.box for state in expected], atol=1e-4)
    np.testing.assert_array_equal(present, [state.present for state in expected])


def test_cli_whole_process_smoke(sequence_folder, tmp_path, capsys):
    folder, _frames, _gt = sequence_folder
    out = tmp_path / "bench.json"
    code = main(["bench", "--whole-process", "--trackers", "eco-hc,opencv-csrt", "--sizes", "", "--sequence",
                 str(folder), "--repeats", "1", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "| input | tracker | first result s |" in printed
    report = json.loads(out.read_text())
    assert report["errors"] == {}
    rows = {row["tracker"]: row for row in report["results"]}
    assert set(rows) == {"eco-hc", "opencv-csrt"}
    for row in rows.values():
        assert row["input"] == "moving" and row["frames"] == 8
        assert 0 < row["first_result_s"] < row["wall_s"] and math.isfinite(row["steady_fps"])
    assert rows["opencv-csrt"]["ratio_to_csrt"] == pytest.approx(1.0)
    assert rows["eco-hc"]["ratio_to_csrt"] == pytest.approx(rows["eco-hc"]["fps"] / rows["opencv-csrt"]["fps"])
