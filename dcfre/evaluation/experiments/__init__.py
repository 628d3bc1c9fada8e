"""The paper's experiments as configured runs: Table 1 (component analysis) and Table 2 (long-term F-score).

An *experiment config* (``experiments/table1.json``, ``experiments/table2.json``) names the
trackers, the datasets used with and without a dataset root, the absent-target policy, the
attributes plotted and the paper's reference numbers. :func:`load_config` reads it,
:func:`prepare_datasets` loads the sequences, :func:`run_table1` / :func:`run_table2` run every
tracker through :func:`~dcfre.evaluation.runner.run_experiment` (resumable: finished sequences
are never recomputed) and write the tables in the paper's layout as Markdown, CSV and JSON,
with the figures.

Output layout (``OUT`` = the ``out_dir`` argument)::

    OUT/runs/<results key>/<tracker folder>/<sequence>.txt   raw results, shared by both tables
    OUT/table1.{md,csv,json}                                 Table 1 (the .md with long-term events per mode)
    OUT/table1_events.csv                                    long-term events, one row per preset, dataset, mode
    OUT/table1/<dataset>/summary.{md,csv,json}               full report per dataset (AUC, DP@20, FPS, F, events)
    OUT/table1/<dataset>/success.{png,pdf}                   success plot (paper Fig. 5 style)
    OUT/table1/<dataset>/attributes.{png,pdf}                FOC / OV success plots (paper Fig. 6)
    OUT/table2.{md,csv,json}, OUT/table2/<dataset>/...       Table 2, long-term PR and F curves
    OUT/table2_events.csv                                    long-term events, one row per dataset and tracker

The results key names what was tracked: ``uav123`` (UAV-Human shares it: its 45 tracks are
UAV123 tracks), ``ltb35``, the synthetic suite's cache folder name (``synth-lt-x0.5``), plus
``-x<scale>`` for truncated real sequences and ``-first<N>`` for ``max_frames``. Runs of both
tables into the same ``OUT`` therefore reuse each other's results (``updt:global`` and
``updt:off`` appear in both).

Every tracker parameter is the preset's: nothing is tuned per sequence or per dataset.

Modules: :mod:`.config` (experiment configs), :mod:`.datasets` (sequences and results folders),
:mod:`.running` (running and scoring one dataset, run settings), :mod:`.table1` and
:mod:`.table2` (the two experiments), :mod:`.tables` (table formatting, pure functions),
:mod:`.cli` (the scripts' shared argument parsing and ``main``). Every public name is
importable from this package.
"""

from dcfre.evaluation.experiments.cli import (
    add_common_arguments, comma_list, command_line, options_from_args, run_script,
)
from dcfre.evaluation.experiments.config import (
    EXPERIMENTS, DatasetEntry, ExperimentConfig, config_from_dict, load_config,
)
from dcfre.evaluation.experiments.datasets import (
    SHARED_RESULTS, SYNTHETIC, PreparedDataset, prepare_datasets, results_key, select_entries, slug,
    truncate_sequence,
)
from dcfre.evaluation.experiments.running import (
    DatasetOutcome, RunOptions, longterm_scores_of, relabel, run_dataset, write_dataset_outputs,
)
from dcfre.evaluation.experiments.table1 import Table1Result, run_table1
from dcfre.evaluation.experiments.table2 import Table2Result, run_table2
from dcfre.evaluation.experiments.tables import (
    TABLE1_DECIMALS, TABLE2_DECIMALS, TABLE2_ROWS, attribute_rows, csv_text, events_csv, format_events_table,
    format_table1, format_table2, format_value, markdown_table, table1_gains, table1_markdown, table1_rows, table2_markdown, table2_order,
)

__all__ = [
    "EXPERIMENTS", "SHARED_RESULTS", "SYNTHETIC", "TABLE1_DECIMALS", "TABLE2_DECIMALS", "TABLE2_ROWS",
    "DatasetEntry", "DatasetOutcome", "ExperimentConfig", "PreparedDataset", "RunOptions", "Table1Result",
    "Table2Result", "add_common_arguments", "attribute_rows", "comma_list", "command_line", "config_from_dict",
    "csv_text", "events_csv", "format_events_table", "format_table1", "format_table2", "format_value", "load_config", "longterm_scores_of",
    "markdown_table", "options_from_args", "prepare_datasets", "relabel", "results_key", "run_dataset",
    "run_script", "run_table1", "run_table2", "select_entries", "slug", "table1_gains", "table1_markdown",
    "table1_rows", "table2_markdown", "table2_order", "truncate_sequence", "write_dataset_outputs",
]
