"""Experiment scripts (Table 1, Table 2): end to end on tiny synthetic sequences, and the table formatting."""

import csv
import importlib.util
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from dcfre.data.sequence import Sequence
from dcfre.data.synthetic import SceneConfig, write_sequence
from dcfre.errors import InputError
from dcfre.evaluation import events, experiments
from dcfre.evaluation.events import LongTermEvents
from dcfre.io import read_results

REPO_ROOT = Path(__file__).resolve().parents[1]
MODE_COLUMNS = ["Baseline", "+Re-detection", "+Hard Negative Mining"]
TABLE2_TRACKERS = ["eco-hc:off", "eco-hc:global", "opencv-kcf"]


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (the scripts folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """Two short synthetic sequences (one out-of-view event each), written in the plain folder layout."""
    root = tmp_path_factory.mktemp("tiny")
    for index, seed in enumerate((3, 8)):
        config = SceneConfig(seed=seed, n_frames=45, width=256, height=160, name=f"tiny-{index + 1}",
                             target_size=30.0, n_occlusions=index, n_out_of_view=1, n_fast_motion=0, n_blur=0,
                             duration_scale=0.3, clear_start=10, out_of_view_frames=(6, 10),
                             camera_swing_frames=(5, 7), occlusion_frames=(5, 8), screen_size_limits=(20.0, 60.0))
        write_sequence(config, root)
    return root


def _write_config(path: Path, base: str, data_root: Path, **changes) -> Path:
    config = json.loads((REPO_ROOT / "experiments" / f"{base}.json").read_text())
    config["datasets"]["offline"] = [{"label": "tiny", "dataset": "folder", "root": str(data_root)}]
    config.update(changes)
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def table1_run(tiny_data, tmp_path_factory):
    """Table 1 with the eco-hc preset (fast) into a fresh folder; returns (out dir, exit code, config)."""
    work = tmp_path_factory.mktemp("table1")
    config = _write_config(work / "table1.json", "table1", tiny_data, presets=["eco-hc"])
    out = work / "out"
    code = load_script("reproduce_table1").main(
        ["--config", str(config), "--out", str(out), "--workers", "1", "--quiet"])
    return out, code, config


def _rows(markdown: str, header_start: str) -> list[list[str]]:
    """Cells of the first Markdown table whose header starts with ``header_start`` (separator skipped)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [rows[0]] + rows[2:]


def _slow_auc(boxes: np.ndarray, gt: np.ndarray) -> float:
    """Success AUC with absent frames as failures, one frame and one threshold at a time."""
    overlaps = []
    for p, g in zip(boxes, gt):
        if not np.isfinite(g).all():
            overlaps.append(0.0)
            continue
        ix = max(0.0, min(p[0] + p[2], g[0] + g[2]) - max(p[0], g[0]))
        iy = max(0.0, min(p[1] + p[3], g[1] + g[3]) - max(p[1], g[1]))
        inter = ix * iy
        overlaps.append(min(1.0, inter / (p[2] * p[3] + g[2] * g[3] - inter)))  # (x + w) - x can exceed w
    curve = [sum(o > t for o in overlaps) / len(overlaps) for t in np.linspace(0, 1, 21)]
    return float(np.mean(curve))


# ------------------------------------------------------------------------------------------ end to end


def test_table1_script_writes_the_paper_layout(table1_run, tiny_data):
    out, code, _ = table1_run
    assert code == 0
    markdown = (out / "table1.md").read_text()
    assert "Absent-target policy: **failure**" in markdown
    rows = _rows(markdown, "| Dataset | Baseline")
    assert rows[0] == ["Dataset"] + MODE_COLUMNS
    assert [r[0] for r in rows[1:]] == ["tiny"]
    assert all(re.fullmatch(r"\d{1,3}\.\d", cell) for cell in rows[1][1:])
    # the paper's own numbers are reproduced for comparison
    assert _rows(markdown, "| Dataset | Baseline")[0] == rows[0]
    assert "| UAV123 | 55.5 | 58.0 | 58.9 |" in markdown

    table = list(csv.reader(io.StringIO((out / "table1.csv").read_text())))
    assert table[0] == ["preset", "dataset"] + [f"{c} AUC (%)" for c in MODE_COLUMNS] + [
        "sequences", "frames", "absent_policy"]
    assert table[1][:2] == ["eco-hc", "tiny"] and table[1][-3:] == ["2", "90", "failure"]

    record = json.loads((out / "table1.json").read_text())
    assert record["absent_policy"] == "failure" and record["columns"] == MODE_COLUMNS
    assert record["presets"] == ["eco-hc"] and "--config" in record["command"]
    auc = record["auc"]["eco-hc"]["tiny"]
    for column, cell in zip(MODE_COLUMNS, rows[1][1:]):
        assert float(cell) == pytest.approx(100 * auc[column], abs=0.051)


def test_table1_auc_matches_a_direct_computation(table1_run, tiny_data):
    out, _, _ = table1_run
    record = json.loads((out / "table1.json").read_text())
    results_dir = out / record["datasets"][0]["results_dir"]
    assert results_dir.name == "tiny"
    for mode, column in zip(("off", "local", "global"), MODE_COLUMNS):
        per_sequence = []
        for name in ("tiny-1", "tiny-2"):
            boxes, _, _ = read_results(results_dir / f"eco-hc@{mode}" / f"{name}.txt")
            gt = np.loadtxt(tiny_data / name / "groundtruth.txt", delimiter=",")
            assert np.isnan(gt).any()  # the out-of-view event is in the ground truth
            per_sequence.append(_slow_auc(boxes, gt))
        assert record["auc"]["eco-hc"]["tiny"][column] == pytest.approx(np.mean(per_sequence), abs=1e-9)


def test_table1_long_term_events_per_mode(table1_run, tiny_data):
    out, _, _ = table1_run
    record = json.loads((out / "table1.json").read_text())
    results_dir = out / record["datasets"][0]["results_dir"]
    markdown = (out / "table1.md").read_text()
    rows = _rows(markdown, "| Dataset / mode | AUC (%) | F-score | Absences noticed (%)")
    assert [r[0] for r in rows[1:]] == [f"tiny / {c}" for c in MODE_COLUMNS]
    assert "at least 5 absent frames" in markdown
    events_csv = list(csv.DictReader(io.StringIO((out / "table1_events.csv").read_text())))
    assert [(r["preset"], r["mode"], r["spec"]) for r in events_csv] == [
        ("eco-hc", c, f"eco-hc:{m}") for m, c in zip(("off", "local", "global"), MODE_COLUMNS)]
    for mode, column, row, csv_row in zip(("off", "local", "global"), MODE_COLUMNS, rows[1:], events_csv):
        # recount from the result files and the ground truth
        expected = events.suite_events(
            (read_results(results_dir / f"eco-hc@{mode}" / f"{name}.txt")[0],
             read_results(results_dir / f"eco-hc@{mode}" / f"{name}.txt")[2],
             np.loadtxt(tiny_data / name / "groundtruth.txt", delimiter=","))
            for name in ("tiny-1", "tiny-2"))
        assert expected.visible_frames > 0 and expected.episodes >= 1  # the out-of-view events
        assert record["events"]["eco-hc"]["tiny"][column] == json.loads(json.dumps(expected.to_dict()))
        assert row[3:] == events.event_cells(expected)
        assert int(csv_row["episodes"]) == expected.episodes and int(csv_row["tracked_frames"]) == expected.tracked_frames
        assert float(row[1]) == pytest.approx(100 * record["auc"]["eco-hc"]["tiny"][column], abs=0.051)
    assert record["events"]["eco-hc"]["tiny"]["Baseline"]["redetections"] == 0  # mode off never reports absence


def test_table1_figures_and_reports(table1_run):
    out, _, _ = table1_run
    folder = out / "table1" / "tiny"
    for name in ("summary.md", "summary.csv", "summary.json", "success.png", "success.pdf", "precision.png"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert set(summary["trackers"]) == {"eco-hc:off", "eco-hc:local", "eco-hc:global"}
    assert summary["attributes"]["OV"] == 2  # both sequences have an out-of-view event
    assert (folder / "attributes.png").is_file()


def test_table1_rerun_reuses_every_sequence(table1_run):
    out, _, config = table1_run
    before = {p: p.read_bytes() for p in (out / "runs").rglob("*.txt")}
    code = load_script("reproduce_table1").main(
        ["--config", str(config), "--out", str(out), "--quiet", "--no-plots", "--absent", "exclude"])
    assert code == 0
    record = json.loads((out / "table1.json").read_text())
    assert record["datasets"][0]["ran"] == 0 and record["datasets"][0]["reused"] == 6
    assert record["absent_policy"] == "exclude"
    assert "Absent-target policy: **exclude**" in (out / "table1.md").read_text()
    assert {p: p.read_bytes() for p in (out / "runs").rglob("*.txt")} == before


def test_table2_script_shares_results_and_writes_one_row_per_metric(table1_run, tiny_data, tmp_path):
    out, _, _ = table1_run
    config = _write_config(tmp_path / "table2.json", "table2", tiny_data,
                           trackers={"eco-hc:off": "ECOhc", "eco-hc:global": "ECOhc+RD", "opencv-kcf": "KCF"})
    code = load_script("table2_ltb35").main(["--config", str(config), "--out", str(out), "--quiet"])
    assert code == 0
    record = json.loads((out / "table2.json").read_text())
    dataset = record["datasets"][0]
    assert dataset["reused"] == 4 and dataset["ran"] == 2  # eco-hc modes come from Table 1's run

    scores = record["scores"]["tiny"]
    order = record["order"]["tiny"]
    assert sorted(order) == ["ECOhc", "ECOhc+RD", "KCF"]
    f_values = [scores[t]["f_score"] for t in order]
    assert f_values == sorted(f_values)
    for t in order:
        s = scores[t]
        assert 0 <= s["precision"] <= 1 and 0 <= s["recall"] <= 1
        assert s["f_score"] == pytest.approx(2 * s["precision"] * s["recall"] / (s["precision"] + s["recall"]))

    rows = _rows((out / "table2.md").read_text(), "|  | ")
    assert rows[0] == [""] + order
    assert [r[0] for r in rows[1:]] == ["F-score", "Pr", "Re"]
    assert all(re.fullmatch(r"[01]\.\d{3}", cell) for r in rows[1:] for cell in r[1:])
    table = list(csv.reader(io.StringIO((out / "table2.csv").read_text())))
    assert table[0] == ["dataset", "tracker", "spec", "f_score", "precision", "recall"]
    assert [r[1] for r in table[1:]] == order
    assert (out / "table2" / "tiny" / "longterm_pr.png").is_file()
    # long-term events in the table's column order, as in the Table 1 run of the same results
    event_rows = _rows((out / "table2.md").read_text(), "| Tracker | AUC (%) | F-score | Absences noticed (%)")
    assert [r[0] for r in event_rows[1:]] == order
    events_csv = list(csv.DictReader(io.StringIO((out / "table2_events.csv").read_text())))
    assert [r["tracker"] for r in events_csv] == order
    table1 = json.loads((out / "table1.json").read_text())["events"]["eco-hc"]["tiny"]
    assert record["events"]["tiny"]["ECOhc+RD"] == table1["+Hard Negative Mining"]
    assert record["events"]["tiny"]["ECOhc"] == table1["Baseline"]


def test_script_reports_bad_input(tmp_path, capsys):
    code = load_script("table2_ltb35").main(["--trackers", "no-such-tracker", "--out", str(tmp_path), "--quiet"])
    assert code == 2
    assert "unknown tracker 'no-such-tracker'" in capsys.readouterr().err
    code = load_script("reproduce_table1").main(["--datasets", "nope", "--out", str(tmp_path), "--quiet"])
    assert code == 2
    assert "unknown dataset(s) nope" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ formatting


def test_format_table1_on_hand_made_results():
    scores = {
        "UAV123": {"Baseline": 0.555, "+Re-detection": 0.58, "+Hard Negative Mining": 0.5893},
        "UAV-Human": {"Baseline": 0.62, "+Re-detection": None, "+Hard Negative Mining": 0.692},
    }
    assert experiments.format_table1(scores, MODE_COLUMNS) == (
        "| Dataset | Baseline | +Re-detection | +Hard Negative Mining |\n"
        "|---|---:|---:|---:|\n"
        "| UAV123 | 55.5 | 58.0 | 58.9 |\n"
        "| UAV-Human | 62.0 | - | 69.2 |"
    )
    gains = experiments.table1_gains(scores, MODE_COLUMNS)
    assert gains[0][0] == "UAV123"
    np.testing.assert_allclose(gains[0][1], [2.5, 0.93], atol=1e-9)
    assert all(math.isnan(v) for v in gains[1][1])


def test_format_table2_sorts_by_f_score_best_last():
    scores = {
        "Ours": {"f_score": 0.52, "precision": 0.6, "recall": 0.46},
        "ECO": {"f_score": 0.35, "precision": 0.4, "recall": 0.31},
        "broken": {"f_score": None, "precision": None, "recall": None},
        "FCLT": {"f_score": 0.48, "precision": 0.5, "recall": 0.46},
    }
    assert experiments.table2_order(scores) == ["broken", "ECO", "FCLT", "Ours"]
    assert experiments.format_table2(scores) == (
        "|  | broken | ECO | FCLT | Ours |\n"
        "|---|---:|---:|---:|---:|\n"
        "| F-score | - | 0.350 | 0.480 | 0.520 |\n"
        "| Pr | - | 0.400 | 0.500 | 0.600 |\n"
        "| Re | - | 0.310 | 0.460 | 0.460 |"
    )
    assert experiments.format_table2(scores, order=["Ours"]).splitlines()[2] == "| F-score | 0.520 |"


def test_format_events_table_on_hand_made_summaries():
    from types import SimpleNamespace

    found = LongTermEvents(episodes=4, noticed=3, returns=2, recovered=1, latencies=(7,), redetections=5,
                           correct_redetections=4, false_redetections=1, visible_frames=200, false_absence_frames=10,
                           wrong_lock_frames=0, tracked_frames=150)
    rows = [("Ours", SimpleNamespace(auc=0.5123, longterm=SimpleNamespace(f_score=0.4567), events=found)),
            ("Off", SimpleNamespace(auc=0.3, longterm=SimpleNamespace(f_score=0.2), events=LongTermEvents())),
            ("broken", None)]
    lines = experiments.format_events_table(rows, "Tracker").splitlines()
    assert lines[0].startswith("| Tracker | AUC (%) | F-score | Absences noticed (%) | Recovered ≤50 fr (%) |")
    assert lines[2] == "| Ours | 51.2 | 0.457 | 75.0 (3/4) | 50.0 (1/2) | 7.0 | 80.0 | 4 / 1 / 5 | 5.0 | 0.0 | 75.0 |"
    assert lines[3] == "| Off | 30.0 | 0.200 | — (0/0) | — (0/0) | — | — | 0 / 0 / 0 | — | — | — |"
    assert lines[4] == "| broken |" + " - |" * 10
    table = list(csv.DictReader(io.StringIO(experiments.events_csv(["tracker"], [([r[0]], r[1]) for r in rows]))))
    assert table[0]["noticed_share"] == "0.7500" and table[0]["episodes"] == "4" and table[0]["auc"] == "0.5123"
    assert table[1]["noticed_share"] == "" and table[2]["episodes"] == ""


def test_markdown_table_checks_row_lengths():
    with pytest.raises(InputError, match="2 values for 3 columns"):
        experiments.markdown_table("x", ["a", "b", "c"], [("r", [1.0, 2.0])], 1)
    assert experiments.format_value(float("inf"), 2) == "-" and experiments.format_value(0.125, 2) == "0.12"


def test_attribute_rows_from_details():
    details = {"updt": {"UAV123": {
        "Baseline": {"attributes": {"FOC": {"n": 3, "auc": 0.3}, "OV": {"n": 5, "auc": 0.5}}},
        "+Re-detection": {"attributes": {"FOC": {"n": 3, "auc": 0.4}}},
        "+Hard Negative Mining": None,
    }}}
    rows = experiments.attribute_rows(details, MODE_COLUMNS, ("FOC", "OV", "SV"))
    assert [r[0] for r in rows] == ["updt / UAV123 / FOC (3)", "updt / UAV123 / OV (5)"]
    np.testing.assert_allclose(rows[0][1], [30.0, 40.0, np.nan])


# ------------------------------------------------------------------------------------------ configuration


def test_shipped_configs_parse():
    table1 = experiments.load_config(REPO_ROOT / "experiments" / "table1.json")
    assert table1.tracker_specs() == ["updt:off", "updt:local", "updt:global"]
    assert list(table1.modes.values()) == MODE_COLUMNS
    assert [e.dataset for e in table1.with_root] == ["uav123", "uav-human"]
    assert [e.dataset for e in table1.offline] == ["synth-lt", "synth-human"]
    assert table1.label_of("updt:local") == "updt +Re-detection"
    table2 = experiments.load_config(REPO_ROOT / "experiments" / "table2.json")
    assert table2.tracker_specs() == ["updt:global", "updt:off", "eco-hc", "eco-hc:global", "opencv-csrt",
                                      "opencv-kcf"]
    assert [e.dataset for e in table2.with_root] == ["ltb35"] and [e.dataset for e in table2.offline] == ["synth-lt"]


@pytest.mark.parametrize("change, message", [
    ({"colour": 1}, "unknown key"),
    ({"experiment": "table3"}, "'experiment' must be one of"),
    ({"modes": {"sometimes": "x"}}, "unknown mode 'sometimes'"),
    ({"absent_policy": "ignore"}, "absent policy must be one of"),
    ({"datasets": {"offline": [{"label": "a"}]}}, "needs a 'dataset' name"),
])
def test_config_validation(change, message):
    data = json.loads((REPO_ROOT / "experiments" / "table1.json").read_text())
    data.update(change)
    with pytest.raises(InputError, match=message):
        experiments.config_from_dict(data)


def test_dataset_selection_and_result_keys():
    config = experiments.load_config(REPO_ROOT / "experiments" / "table1.json")
    assert [e.label for e in experiments.select_entries(config, None)] == ["synth-lt", "synth-human"]
    assert [e.label for e in experiments.select_entries(config, "/data", ["uav-human"])] == ["UAV-Human"]
    uav123, human = config.with_root
    assert experiments.results_key(uav123, 0, 1.0, None) == "uav123"
    assert experiments.results_key(human, 0, 1.0, None) == "uav123"  # UAV-Human tracks are UAV123 tracks
    assert experiments.results_key(human, 0, 0.5, 100) == "uav123-x0.5-first100"
    assert experiments.results_key(config.offline[0], 0, 0.5, None) == "synth-lt-x0.5"
    assert experiments.results_key(config.offline[1], 2, 1.0, 50) == "synth-human-seed2-first50"


def test_truncate_sequence():
    gt = np.arange(40, dtype=float).reshape(10, 4)
    sequence = Sequence("s", [Path(f"{i}.jpg") for i in range(10)], gt, {"OV": True})
    short = experiments.truncate_sequence(sequence, 4)
    assert len(short) == 4 and short.frames == sequence.frames[:4]
    np.testing.assert_array_equal(short.groundtruth, gt[:4])
    np.testing.assert_array_equal(short.init_box, gt[0])
    assert short.attributes == {"OV": True} and len(sequence) == 10
    assert experiments.truncate_sequence(sequence, 20) is sequence


# ------------------------------------------------------------------------------------------ reference tables


REFERENCE_README = """
# Sequences

| sequence | frames |
|---|---|
| OTB100_Deer | 71 |

| tracker | mean AUC | FPS | Deer | Soccer |
|---|---|---|---|---|
| pyECO-HC (numpy; OTB settings) | 0.6 | 68 | 0.80 | 0.46 |
| floor | 0.1 | — | 0.09 | — |

| tracker | UAV123-10fps_person9 |
|---|---|
| pyECO-HC | 0.06 (0.06) |
"""


def test_reference_tables_parsed_per_table_and_matched_to_sequences():
    compare = load_script("compare_on_sequences")
    names = ["OTB100_Deer", "OTB100_Soccer", "UAV123-10fps_person9", "OTB100_Crossing"]
    refs = compare.parse_reference_tables(REFERENCE_README, names)
    assert refs == {
        "pyECO-HC [table 2]": {"OTB100_Deer": 0.80, "OTB100_Soccer": 0.46},
        "floor [table 2]": {"OTB100_Deer": 0.09},
        "pyECO-HC [table 3]": {"UAV123-10fps_person9": 0.06},
    }
    table = {"eco-hc": {"sequences": {"OTB100_Deer": {"auc": 0.81}, "OTB100_Soccer": {"auc": 0.40}}}}
    text = compare.format_reference(table, refs, names)
    row = next(line for line in text.splitlines() if line.startswith("| eco-hc | 2 |"))
    assert "0.605" in row and "0.81 +" in row and "0.40 -" in row
    # the person9 reference has no measured counterpart: no eco-hc row under it
    assert sum(line.startswith("| eco-hc |") for line in text.splitlines()) == 2
