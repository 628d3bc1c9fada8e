"""Reproduce the paper's Table 2: long-term F-score (with Pr and Re) on LTB35.

Runs the trackers of experiments/table2.json (default: updt:global = the paper's method,
updt:off, eco-hc, eco-hc:global, opencv-csrt, opencv-kcf) on LTB35 when ``--root`` points at an
LTB35 (VOT-LT2018) copy, else offline on the synthetic suite synth-lt. Writes::

    OUT/table2.{md,csv,json}           one column per tracker (ascending F-score), rows F-score, Pr, Re
    OUT/table2/<dataset>/              summary.{md,csv,json}, long-term Pr/Re and F curves, success plot
    OUT/runs/<dataset key>/...         raw per-sequence results (shared with reproduce_table1.py)

Examples::

    python scripts/table2_ltb35.py --out /work/results/paper --frames-scale 0.5 --workers 2
    python scripts/table2_ltb35.py --root /data/LTB35 --out /work/results/ltb35 --workers 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "experiments" / "table2.json"


def build_parser() -> argparse.ArgumentParser:
    from dcfre.evaluation import experiments

    parser = argparse.ArgumentParser(
        prog="python scripts/table2_ltb35.py",
        description="Table 2 of the paper: long-term tracking F-score, Pr and Re (LTB35 protocol).",
    )
    experiments.add_common_arguments(parser, DEFAULT_CONFIG)
    parser.add_argument("--trackers", type=experiments.comma_list, default=None,
                        help="comma-separated tracker specs (default: the config's)")
    return parser


def main(argv=None) -> int:
    from dcfre.evaluation import experiments

    return experiments.run_script(
        "table2_ltb35", build_parser(), lambda config, options, args: experiments.run_table2(config, options, tracker_specs=args.trackers), argv
    )


if __name__ == "__main__":
    sys.exit(main())
