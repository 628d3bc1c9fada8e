"""Tests of the speed benchmark (dcfre.evaluation.benchmark and ``python -m dcfre bench``).

The end-to-end tests run tiny benchmarks (a few frames of a small synthetic sequence) in real
worker processes. The cold-JIT measurement runs on OpenCV KCF only (no numba kernels, so it
is quick); set DCFRE_SKIP_COLD_JIT=1 to skip it.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import pytest

from dcfre.cli import main
from dcfre.errors import InputError
from dcfre.evaluation import benchmark

TINY_SIZE = (160, 120)


# ------------------------------------------------------------------------------ statistics


def _percentile_reference(values, q):
    """Linear interpolation between closest ranks, written out (numpy's default method)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_run_statistics_against_direct_computation():
    rng = np.random.default_rng(3)
    track = rng.uniform(0.001, 0.02, size=37).tolist()
    init = 0.25
    stats = benchmark.run_statistics(init, track)
    ordered = sorted(track)
    assert stats["frames"] == 38
    assert stats["median_ms"] == pytest.approx(1e3 * ordered[18])
    assert stats["p95_ms"] == pytest.approx(1e3 * _percentile_reference(track, 95))
    assert stats["mean_ms"] == pytest.approx(1e3 * sum(track) / 37)
    assert stats["max_ms"] == pytest.approx(1e3 * max(track))
    assert stats["init_ms"] == pytest.approx(250.0)
    assert stats["fps"] == pytest.approx(38 / (init + sum(track)))
    assert stats["track_fps"] == pytest.approx(37 / sum(track))


def test_run_statistics_needs_a_track_call():
    with pytest.raises(InputError):
        benchmark.run_statistics(0.1, [])


def test_median_over_runs_takes_each_key_separately():
    runs = [benchmark.run_statistics(i * 0.01, [0.001 * (i + 1)] * 4) for i in (1, 5, 2)]
    summary = benchmark.median_over_runs(runs)
    assert summary["init_ms"] == pytest.approx(20.0)
    assert summary["median_ms"] == pytest.approx(3.0)
    assert summary["fps"] == pytest.approx(sorted(run["fps"] for run in runs)[1])
    assert summary["frames"] == 5
    even = benchmark.median_over_runs(runs[:2])
    assert even["total_s"] == pytest.approx((runs[0]["total_s"] + runs[1]["total_s"]) / 2)
    assert even["fps"] == pytest.approx(5 / even["total_s"])
    assert even["track_fps"] == pytest.approx(4 / even["track_s"])


def test_rotated_gives_each_tracker_each_position():
    items = ["a", "b", "c"]
    firsts = [benchmark.rotated(items, k)[0] for k in range(3)]
    assert firsts == ["a", "b", "c"]
    assert benchmark.rotated(items, 4) == ["b", "c", "a"]
    assert benchmark.rotated([], 2) == []


def _fake_timing(fps_by_tracker):
    runs, frames = {}, 10
    for spec, fps in fps_by_tracker.items():
        per_call = 1.0 / fps
        runs[spec] = {"seq": [benchmark.run_statistics(per_call, [per_call] * (frames - 1))]}
    return {"runs": runs, "errors": {}}


def test_ratio_to_csrt_is_fps_over_csrt_fps_on_the_same_input():
    config = benchmark.BenchConfig(trackers=("eco-hc", "opencv-csrt", "opencv-kcf"))
    timing = _fake_timing({"eco-hc": 120.0, "opencv-csrt": 40.0, "opencv-kcf": 400.0})
    rows = benchmark._assemble(config, [{"name": "seq"}], timing, {}, {})
    ratios = {row["tracker"]: row["ratio_to_csrt"] for row in rows}
    assert ratios == pytest.approx({"eco-hc": 3.0, "opencv-csrt": 1.0, "opencv-kcf": 10.0})


def test_no_ratio_without_csrt_and_failed_tracker_reported():
    config = benchmark.BenchConfig(trackers=("opencv-kcf", "eco-hc"))
    timing = _fake_timing({"opencv-kcf": 400.0})
    timing["errors"] = {"eco-hc": "ValueError: boom"}
    rows = {row["tracker"]: row for row in benchmark._assemble(config, [{"name": "seq"}], timing, {}, {})}
    assert rows["opencv-kcf"]["ratio_to_csrt"] is None
    assert rows["eco-hc"]["error"] == "ValueError: boom"
    assert "error: ValueError: boom" in benchmark.format_markdown(_minimal_report(list(rows.values())))


def _minimal_report(rows):
    return {
        "threads": {"requested": "1", "count": 1},
        "load": {"start": [1.0, 1.0, 1.0], "end": None},
        "machine": {"processor": "cpu", "cpu_count": 2, "python": "3.11"},
        "config": {"repeats": 1, "warmup_frames": 0},
        "results": rows,
        "jit": {},
        "inputs": [{"name": "seq"}],
        "errors": {},
    }


# ------------------------------------------------------------------------------ parsing


def test_parse_sizes_and_trackers():
    assert benchmark.parse_sizes("640x360, 1280X720") == ((640, 360), (1280, 720))
    assert benchmark.parse_sizes("") == ()
    assert benchmark.parse_trackers("eco-hc, opencv-kcf,eco-hc") == ("eco-hc", "opencv-kcf")
    for bad in ("640", "ax360", "640x10"):
        with pytest.raises(InputError):
            benchmark.parse_size(bad)


def test_config_validation_rejects_unknown_tracker_and_bad_values():
    with pytest.raises(InputError, match="unknown tracker"):
        benchmark.BenchConfig(trackers=("no-such-tracker",)).validate()
    with pytest.raises(InputError):
        benchmark.BenchConfig(threads="4").validate()
    with pytest.raises(InputError):
        benchmark.BenchConfig(repeats=0).validate()
    with pytest.raises(InputError):
        benchmark.BenchConfig(sizes=(), sequences=()).validate()


def test_thread_environment_and_count():
    env = benchmark.thread_environment(1)
    assert set(env) == set(benchmark.THREAD_ENV_VARS)
    assert set(env.values()) == {"1"}
    assert benchmark.thread_count("1") == 1
    assert benchmark.thread_count("all") >= 1


# ------------------------------------------------------------------------------ inputs and memory


def test_stored_frames_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(5, 40, 48, 3), dtype=np.uint8)
    item = benchmark.BenchInput("x", "synthetic", frames, np.array([3.0, 4.0, 10.0, 12.0]), "test")
    desc = benchmark.write_input(item, tmp_path, 0)
    assert desc["shape"] == [5, 40, 48, 3]
    np.testing.assert_array_equal(benchmark.load_frames(desc), frames)
    np.testing.assert_array_equal(benchmark.load_frames(desc, 2), frames[:2])
    streamed = list(benchmark.stream_frames(desc))
    assert len(streamed) == 5
    np.testing.assert_array_equal(np.stack(streamed), frames)


def test_synthetic_input_target_scales_with_height():
    small = benchmark.synthetic_input((160, 120), 3, seed=1)
    large = benchmark.synthetic_input((320, 240), 3, seed=1)
    assert small.frames.shape == (3, 120, 160, 3) and small.frames.dtype == np.uint8
    assert small.size == (160, 120)
    area_small = small.init_box[2] * small.init_box[3]
    area_large = large.init_box[2] * large.init_box[3]
    assert area_large / area_small == pytest.approx(4.0, rel=0.25)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux-only")
def test_memory_snapshot_sees_a_large_allocation():
    before = benchmark.memory_snapshot_mb()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
    after = benchmark.memory_snapshot_mb()
    assert after["method"] == "VmHWM"
    assert after["peak_mb"] - before["current_mb"] >= 60
    del block


# ------------------------------------------------------------------------------ end to end


def _positive(value):
    return isinstance(value, (int, float)) and value > 0 and math.isfinite(value)


def test_cli_bench_smoke(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main([
        "bench", "--trackers", "opencv-kcf,eco-hc", "--sizes", f"{TINY_SIZE[0]}x{TINY_SIZE[1]}",
        "--frames", "6", "--repeats", "2", "--warmup", "2", "--no-jit", "--out", str(out), "--quiet",
    ])
    printed = capsys.readouterr().out
    assert code == 0
    assert "| input | tracker | median ms |" in printed and "Load average" in printed
    report = json.loads(out.read_text())
    assert report["command"].startswith("python -m dcfre")
    assert report["config"]["trackers"] == ["opencv-kcf", "eco-hc"]
    assert report["threads"]["count"] == 1
    assert report["threads"]["timing_worker"]["env"]["NUMBA_NUM_THREADS"] == "1"
    assert report["threads"]["timing_worker"]["numba"] == 1
    assert report["threads"]["timing_worker"]["opencv"] == 1
    assert len(report["load"]["start"]) == 3 and len(report["load"]["end"]) == 3
    assert [item["name"] for item in report["inputs"]] == ["synthetic-160x120"]
    assert report["errors"] == {}
    rows = {row["tracker"]: row for row in report["results"]}
    assert set(rows) == {"opencv-kcf", "eco-hc"}
    for row in rows.values():
        assert row["frames"] == 6
        for key in ("median_ms", "p95_ms", "fps", "init_ms", "peak_rss_mb", "tracker_rss_mb"):
            assert _positive(row[key]), (row["tracker"], key, row[key])
        assert row["p95_ms"] >= row["median_ms"]
        assert row["ratio_to_csrt"] is None
        assert len(row["repeats"]) == 2
        assert row["fps"] == pytest.approx(6 / row["total_s"])
    assert rows["eco-hc"]["peak_rss_mb"] > rows["eco-hc"]["tracker_rss_mb"]


@pytest.mark.skipif(os.environ.get("DCFRE_SKIP_COLD_JIT") == "1", reason="DCFRE_SKIP_COLD_JIT=1")
def test_cold_and_cached_jit_measurement():
    config = benchmark.BenchConfig(
        trackers=("opencv-kcf",), sizes=(TINY_SIZE,), frames=3, repeats=1, warmup_frames=1, measure_memory=False,
    )
    report = benchmark.run_benchmark(config)
    jit = report["jit"]["opencv-kcf"]
    for state in ("cold", "cached"):
        assert _positive(jit[state]["total_s"])
        assert jit[state]["total_s"] == pytest.approx(
            jit[state]["import_s"] + jit[state]["initialize_s"] + jit[state]["track_s"])
        assert jit[state]["process_s"] > jit[state]["total_s"]
    assert jit["cold"]["numba_cache_dir"] == jit["cached"]["numba_cache_dir"]
    row = report["results"][0]
    assert row["jit_cold_s"] == jit["cold"]["total_s"] and row["jit_cached_s"] == jit["cached"]["total_s"]
    assert "JIT cold s" in benchmark.format_markdown(report)


# ------------------------------------------------------------------------------ long-term components


def _warmed_tracker(spec, size=TINY_SIZE, n_frames=12, warmup=4):
    from dcfre.evaluation.trackers import build_tracker

    item = benchmark.synthetic_input(size, n_frames, seed=2, overrides={"n_occlusions": 0, "n_out_of_view": 0})
    tracker = build_tracker(spec)
    tracker.initialize(item.frames[0], item.init_box)
    for frame in item.frames[1 : 1 + warmup]:
        tracker.track(frame)
    return tracker, item.frames[1 + warmup :]


def test_time_long_term_components_global_mode_scores_local_and_global_filters():
    tracker, frames = _warmed_tracker("eco-hc:global")
    calls = []
    score = tracker.scorer.score

    def spy(features, filter_sets):
        calls.append(list(filter_sets))
        return score(features, filter_sets)

    tracker.scorer.score = spy
    position, scale = tracker.position.copy(), tracker.scale
    result = benchmark.time_long_term_components(tracker, frames, count=3)
    for key in ("redetect_ms", "redetect_max_ms", "mining_ms", "mining_max_ms", "global_train_ms"):
        assert _positive(result[key]), (key, result[key])
    assert result["redetect_max_ms"] >= result["redetect_ms"]
    assert result["count"] == 3 and result["filter_sets"] == 2
    scans = [c for c in calls if len(c) == 2]  # the 3 mining rounds score the local filters only
    assert len(scans) == 3 and len(calls) == 6
    trained = scans[0][1]  # the global filters, trained before the first scan if they did not exist
    for local, global_ in scans:
        assert local is tracker.confidence_model.model.filters
        assert global_ is trained and global_ is not local
        assert [g.shape for g in global_] == [f.shape for f in local]
    assert all(len(c) == 1 and c[0] is tracker.confidence_model.model.filters for c in calls[3:])
    np.testing.assert_array_equal(tracker.position, position)  # state not advanced
    assert tracker.scale == scale


def test_time_long_term_components_local_mode_and_off():
    tracker, frames = _warmed_tracker("eco-hc:local")
    result = benchmark.time_long_term_components(tracker, frames[:1], count=2)  # one frame, cycled
    assert _positive(result["redetect_ms"])
    assert result["mining_ms"] is None and result["global_train_ms"] is None and result["filter_sets"] == 1
    off, frames = _warmed_tracker("eco-hc", warmup=1)
    assert not benchmark.has_long_term_components(off)
    with pytest.raises(InputError, match="re-detection"):
        benchmark.time_long_term_components(off, frames)


def test_long_term_table_only_lists_trackers_with_re_detection():
    config = benchmark.BenchConfig(trackers=("eco-hc", "eco-hc:global"))
    timing = _fake_timing({"eco-hc": 100.0, "eco-hc:global": 50.0})
    component = {"redetect_ms": 12.5, "mining_ms": 8.25, "count": 5}
    timing["long_term"] = {"eco-hc:global": {"seq": component}}
    rows = {row["tracker"]: row for row in benchmark._assemble(config, [{"name": "seq"}], timing, {}, {})}
    assert rows["eco-hc:global"]["redetect_ms"] == 12.5 and rows["eco-hc:global"]["mining_ms"] == 8.25
    assert rows["eco-hc"]["redetect_ms"] is None and rows["eco-hc"]["long_term"] is None
    text = benchmark.format_markdown(_minimal_report(list(rows.values())))
    assert "| input | tracker | re-detection ms | mining ms |" in text
    assert "| seq | eco-hc:global | 12.5 | 8.2 |" in text
    assert "| seq | eco-hc |" not in text
    plain = benchmark.format_markdown(_minimal_report([rows["eco-hc"]]))
    assert "re-detection ms" not in plain


# ------------------------------------------------------------------------------ inputs with losses


def test_loss_input_frames_default_and_override():
    assert benchmark.BenchConfig().loss_input_frames == benchmark.LOSS_INPUT_FRAMES
    assert benchmark.BenchConfig(frames=500).loss_input_frames == 500
    assert benchmark.BenchConfig(frames=20, loss_frames=120).loss_input_frames == 120
    with pytest.raises(InputError):
        benchmark.BenchConfig(loss_frames=1).validate()


def test_loss_input_has_an_out_of_view_span_with_absent_frames():
    item = benchmark.loss_input(TINY_SIZE, benchmark.LOSS_INPUT_FRAMES)
    assert item.name == "synthetic-lt-160x120" and item.frames.shape[0] == benchmark.LOSS_INPUT_FRAMES
    absent = ~np.isfinite(item.groundtruth).all(axis=1)
    assert absent.any() and not absent[0]
    assert sum(b - a + 1 for a, b in item.absent_spans) == int(absent.sum())
    views = [e for e in item.events if e["kind"] == benchmark.OUT_OF_VIEW_EVENT]
    assert views and absent[views[0]["core_start"] : views[0]["core_stop"]].all()
    with pytest.raises(InputError, match="out-of-view"):
        benchmark.loss_input(TINY_SIZE, 40)  # the first 30 frames are kept free of events


def test_cli_bench_with_losses_and_long_term_columns(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main([
        "bench", "--trackers", "eco-hc,eco-hc:global", "--sizes", f"{TINY_SIZE[0]}x{TINY_SIZE[1]}",
        "--frames", "6", "--repeats", "1", "--warmup", "2", "--no-jit", "--no-memory", "--with-losses",
        "--loss-frames", "150", "--out", str(out), "--quiet",
    ])
    printed = capsys.readouterr().out
    assert code == 0
    report = json.loads(out.read_text())
    assert report["errors"] == {}
    assert "--with-losses" in report["command"] and "--loss-frames 150" in report["command"]
    inputs = {item["name"]: item for item in report["inputs"]}
    assert list(inputs) == ["synthetic-160x120", "synthetic-lt-160x120"]
    assert inputs["synthetic-160x120"]["absent_frames"] == 0
    assert inputs["synthetic-lt-160x120"]["absent_frames"] > 0 and inputs["synthetic-lt-160x120"]["absent_spans"]
    assert inputs["synthetic-lt-160x120"]["shape"][0] == 150
    rows = {(row["input"], row["tracker"]): row for row in report["results"]}
    for name in inputs:
        assert rows[(name, "eco-hc")]["redetect_ms"] is None and rows[(name, "eco-hc")]["mining_ms"] is None
        assert _positive(rows[(name, "eco-hc:global")]["redetect_ms"])
        assert _positive(rows[(name, "eco-hc:global")]["mining_ms"])
    lt_row = rows[("synthetic-lt-160x120", "eco-hc:global")]
    assert lt_row["frames"] == 150 and lt_row["lost_frames"] > 0  # the timed run went through the loss
    assert "Long-term components" in printed
    assert "| synthetic-lt-160x120 | eco-hc:global |" in printed
    assert "| synthetic-160x120 | eco-hc |" not in printed
    assert f"| synthetic-lt-160x120 (150 fr, {inputs['synthetic-lt-160x120']['absent_frames']} absent) | eco-hc |" in printed
