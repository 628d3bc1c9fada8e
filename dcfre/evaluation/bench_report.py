"""Benchmark output: machine description, Markdown tables and the JSON report file."""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

from dcfre.evaluation.bench_config import LONG_TERM_SCANS_PER_REPEAT, RECORDED_PACKAGES


# ---------------------------------------------------------------------------------------------
# Machine


def machine_info() -> dict:
    """Host, cores, Python and package versions (without importing the packages)."""
    versions = {}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "host": platform.node(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "packages": versions,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }


def load_average() -> list[float] | None:
    """``os.getloadavg()`` (1, 5, 15 min), None where unavailable."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


# ---------------------------------------------------------------------------------------------
# Output


def format_value(value, digits: int = 1, suffix: str = "") -> str:
    """``value`` with ``digits`` decimals and ``suffix``; a dash for None or NaN."""
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return f"{value:.{digits}f}{suffix}"


def format_markdown(report: dict) -> str:
    """The report as Markdown: conditions, a per-input speed table and a start-up table."""
    threads = report["threads"]
    load = report["load"]
    machine = report["machine"]
    config = report["config"]
    conditions = (
        f"Machine: {machine['processor']}, {machine['cpu_count']} cores, Python {machine['python']}; "
        f"threads per tracker: {threads['requested']} ({threads['count']}); repeats: {config['repeats']} "
        f"(median shown); warm-up: {config['warmup_frames']} frames"
    )
    lines = [
        conditions,
        f"Load average (1/5/15 min): start {_load_text(load['start'])}, end {_load_text(load['end'])}",
        "",
        "| input | tracker | median ms | p95 ms | FPS | track FPS | × CSRT | first frame ms | peak RSS MB | tracker RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    absent = {item["name"]: item.get("absent_frames") for item in report["inputs"]}
    for row in report["results"]:
        if "error" in row:
            lines.append(f"| {row['input']} | {row['tracker']} | error: {row['error']} | | | | | | | |")
            continue
        ratio = row.get("ratio_to_csrt")
        lines.append(
            f"| {row['input']} ({row['frames']} fr{_absent_text(absent.get(row['input']))}) | {row['tracker']} | {format_value(row['median_ms'], 2)} | "
            f"{format_value(row['p95_ms'], 2)} | {format_value(row['fps'], 1)} | {format_value(row['track_fps'], 1)} | {format_value(ratio, 2, '×')} | {format_value(row['init_ms'], 1)} | "
            f"{format_value(row.get('peak_rss_mb'), 0)} | {format_value(row.get('tracker_rss_mb'), 0)} |"
        )
    lines += _long_term_table(report)
    if report["jit"]:
        first_input = report["inputs"][0]["name"] if report["inputs"] else "?"
        lines += [
            "",
            f"Start-up (import + first initialize + first track, fresh process, on {first_input}):",
            "",
            "| tracker | JIT cold s | JIT cached s | cold: import / init / track s | cached: import / init / track s |",
            "|---|---|---|---|---|",
        ]
        for spec, states in report["jit"].items():
            cold, cached = states.get("cold", {}), states.get("cached", {})
            lines.append(
                f"| {spec} | {format_value(cold.get('total_s'), 2)} | {format_value(cached.get('total_s'), 2)} | "
                f"{_split_text(cold)} | {_split_text(cached)} |"
            )
    lines += [
        "",
        (
            "median/p95 ms: track() calls; FPS = frames / (initialize + track seconds); track FPS = track calls / "
            "their seconds; × CSRT = FPS / OpenCV CSRT's FPS on the same input; peak RSS: high-water mark of a fresh "
            "process running only that tracker on that input (tracker RSS = increase over the process before the "
            "tracker was imported)."
        ),
    ]
    if any(row.get("long_term") for row in report["results"]):
        lines.append(
            "re-detection ms: one whole-frame scan (features + local and global filter scores) as while the target "
            "is lost; mining ms: one hard-negative mining round (global mode); medians over "
            f"{LONG_TERM_SCANS_PER_REPEAT} x repeats frames after the warm-up, measured apart from the timed runs."
        )
    if any(item.get("absent_frames") for item in report["inputs"]):
        lines.append(
            "synthetic-lt inputs: the target is absent (occluded or out of view) in some frames; their per-frame "
            "times include lost frames, re-detection attempts and mining."
        )
    for key, text in report.get("errors", {}).items():
        lines.append(f"error ({key}): {text}")
    return "\n".join(lines)


def _absent_text(frames: int | None) -> str:
    return f", {frames} absent" if frames else ""


def _long_term_table(report: dict) -> list[str]:
    """Lines of the long-term component table (none when no tracker re-detects)."""
    rows = [row for row in report["results"] if row.get("long_term")]
    if not rows:
        return []
    lines = [
        "",
        "Long-term components: whole-frame re-detection and mining round, median ms",
        "",
        "| input | tracker | re-detection ms | mining ms | lost frames / re-detections per timed run |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lost = f"{format_value(row.get('lost_frames'), 0)} / {format_value(row.get('redetections'), 0)}"
        lines.append(
            f"| {row['input']} | {row['tracker']} | {format_value(row['redetect_ms'], 1)} | {format_value(row['mining_ms'], 1)} | {lost} |"
        )
    return lines


def _load_text(load) -> str:
    return "n/a" if load is None else " / ".join(f"{v:.2f}" for v in load)


def _split_text(state: dict) -> str:
    if not state:
        return "—"
    return " / ".join(format_value(state.get(key), 2) for key in ("import_s", "initialize_s", "track_s"))


def _json_ready(value):
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_report(report: dict, path: str | Path) -> Path:
    """Write the report as JSON (atomic; NaN and infinities as null)."""
    from dcfre.io import atomic_write_text

    path = Path(path)
    atomic_write_text(path, json.dumps(_json_ready(report), indent=2) + "\n")
    return path


def command_line(argv: Iterable[str] | None = None, prefix: str = "python -m dcfre") -> str:
    """The command that produced a report, shell-quoted."""
    args = list(sys.argv[1:] if argv is None else argv)
    return prefix + (" " + shlex.join(args) if args else "")
