"""Evaluation toolkit: metrics, resumable parallel runner, OpenCV baselines, reports and plots.

Typical use::

    from dcfre.data import load_dataset
    from dcfre.evaluation import run_experiment, summarize, write_summary

    sequences = load_dataset("uav123", "/data/UAV123")
    run = run_experiment(sequences, ["eco-hc", "eco-hc:global", "opencv-csrt"], "results/uav123", workers=2)
    summary = summarize(sequences, run.results, policy="exclude")
    write_summary(summary, "results/uav123")

Modules: :mod:`~dcfre.evaluation.metrics` (IoU, success/precision, long-term Pr/Re/F),
:mod:`~dcfre.evaluation.events` (long-term events: absences noticed, recovery, re-detections),
:mod:`~dcfre.evaluation.runner` (jobs, result files, local pool / Dask),
:mod:`~dcfre.evaluation.trackers` (tracker specs), :mod:`~dcfre.evaluation.baselines`
(OpenCV CSRT/KCF), :mod:`~dcfre.evaluation.report` (scores, Markdown/CSV/JSON),
:mod:`~dcfre.evaluation.plots` (figures), :mod:`~dcfre.evaluation.experiments` (the paper's
Table 1 and Table 2 runs).

Names are imported lazily: worker processes import :mod:`dcfre.evaluation.runner` before they
limit the threads of numerical libraries, so this package must not import numpy eagerly.
"""

import importlib

_EXPORTS = {
    "run_experiment": "runner",
    "ExperimentRun": "runner",
    "SequenceResult": "runner",
    "load_result": "runner",
    "read_result_file": "runner",
    "RunError": "runner",
    "build_tracker": "trackers",
    "available_trackers": "trackers",
    "register_tracker": "trackers",
    "tracker_dir_name": "trackers",
    "OpenCVTracker": "baselines",
    "summarize": "report",
    "evaluate": "report",
    "write_summary": "report",
    "Summary": "report",
    "plot_all": "plots",
    "sequence_events": "events",
    "suite_events": "events",
    "LongTermEvents": "events",
    "EventThresholds": "events",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"dcfre.evaluation.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'dcfre.evaluation' has no attribute {name!r}")
