"""Reproduce the paper's Table 1 (and Fig. 6): Baseline / +Re-detection / +Hard Negative Mining.

Runs each preset (default ``updt``) in the long-term modes ``off``, ``local`` and ``global`` on
UAV123 and UAV-Human when ``--root`` points at a UAV123 copy, else offline on the synthetic
suites synth-lt and synth-human (generated on first use into the cache folder). Writes::

    OUT/table1.{md,csv,json}           success AUC (%), rows = datasets, columns = modes
    OUT/table1/<dataset>/              summary.{md,csv,json}, success, precision and FOC/OV
                                       attribute success plots (.png, .pdf)
    OUT/runs/<dataset key>/...         raw per-sequence results (rerunning skips finished ones)

Examples::

    python scripts/reproduce_table1.py --out /work/results/paper --frames-scale 0.5 --workers 2
    python scripts/reproduce_table1.py --root /data/UAV123 --out /work/results/uav123 --workers 2
    python scripts/reproduce_table1.py --presets eco-hc --datasets synth-lt --limit 2 --max-frames 100

The configuration (datasets, modes, absent-target policy) is experiments/table1.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "experiments" / "table1.json"


def build_parser() -> argparse.ArgumentParser:
    from dcfre.evaluation import experiments

    parser = argparse.ArgumentParser(
        prog="python scripts/reproduce_table1.py",
        description="Table 1 of the paper: success AUC of a preset in the modes off / local / global.",
    )
    experiments.add_common_arguments(parser, DEFAULT_CONFIG)
    parser.add_argument("--presets", type=experiments.comma_list, default=None,
                        help="comma-separated dcfre presets (default: the config's, updt); e.g. updt,eco-hc")
    return parser


def main(argv=None) -> int:
    from dcfre.evaluation import experiments

    return experiments.run_script(
        "reproduce_table1", build_parser(), lambda config, options, args: experiments.run_table1(config, options, presets=args.presets), argv
    )


if __name__ == "__main__":
    sys.exit(main())
