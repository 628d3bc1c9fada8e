"""The notebooks execute from top to bottom without error (small inputs: ``DCFRE_NOTEBOOK_FAST=1``).

Each notebook runs in a fresh ``python3`` kernel with nbclient; a cell that raises fails the test. The
notebooks are stored without outputs, which is checked too.
"""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("01_quick_tour", "02_hard_negative_mining", "03_ablation")
#: Seconds one cell may take on a loaded 2-core machine (the slowest cell tracks a short sequence).
CELL_TIMEOUT = 300


def _read(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _execute(name, workdir, monkeypatch, **env):
    """Run a notebook in ``workdir`` with the fast settings; returns the executed notebook."""
    monkeypatch.setenv("DCFRE_NOTEBOOK_FAST", "1")
    monkeypatch.setenv("DCFRE_CACHE", str(workdir / "cache"))
    monkeypatch.setenv("DCFRE_ABLATION_OUT", str(workdir / "ablation"))
    monkeypatch.delenv("DCFRE_ABLATION_RESULTS", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = _read(name)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError naming the cell on any error
    return notebook


def _outputs(notebook, kind):
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
            if kind in o.get("data", {}) or o.get("output_type") == kind]


def _text(notebook):
    parts = []
    for output in _outputs(notebook, "stream"):
        parts.append(output["text"])
    for output in _outputs(notebook, "text/markdown"):
        parts.append(output["data"]["text/markdown"])
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs(name):
    notebook = _read(name)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: stored with outputs"


def test_quick_tour_runs(tmp_path, monkeypatch):
    notebook = _execute("01_quick_tour", tmp_path, monkeypatch)
    assert len(_outputs(notebook, "image/png")) >= 3  # frames, confidence plot, score map
    assert "mode changes:" in _text(notebook)


def test_hard_negative_mining_runs(tmp_path, monkeypatch):
    notebook = _execute("02_hard_negative_mining", tmp_path, monkeypatch)
    assert len(_outputs(notebook, "image/png")) >= 2  # Figure 2 and Figure 3
    text = _text(notebook)
    assert "distractor(s) mined" in text and "pass both" in text


def test_ablation_runs_then_reads_its_finished_results(tmp_path, monkeypatch):
    notebook = _execute("03_ablation", tmp_path, monkeypatch)
    text = _text(notebook)
    assert "+Hard Negative Mining" in text and "eco-hc" in text
    assert len(_outputs(notebook, "image/png")) == 1
    runs = tmp_path / "ablation" / "runs"
    assert len(list(runs.rglob("summary.json"))) == 2
    # pointed at the finished experiment, the notebook only reads: same table, nothing recomputed
    before = sorted(p.stat().st_mtime_ns for p in runs.rglob("*.txt"))
    again = _execute("03_ablation", tmp_path, monkeypatch, DCFRE_ABLATION_RESULTS=str(runs))
    assert "read 2 finished experiment(s)" in _text(again)
    assert sorted(p.stat().st_mtime_ns for p in runs.rglob("*.txt")) == before
    table = [line for line in _text(again).splitlines() if line.startswith("| synth-")]
    assert len(table) == 2
