"""The README's examples run as shown."""

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).parent.parent / "README.md").read_text()


def python_block_after(heading):
    section = README.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_hand_written_spec_example_runs(tmp_path):
    code = python_block_after("## One network from a hand-written spec")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'vertical'" in result.stdout
    html = (tmp_path / "manual_graph.html").read_text()
    assert "vis-network" in html or "vis.Network" in html


def test_setup_commands_are_the_two_at_the_top():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == [
        'pip install -e ".[examples]" && python examples/ames_regression.py',
        'pip install -e ".[test]" && pytest']
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]" && pytest' in ci


def test_the_main_example_scores_held_out_test_rows(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "ames_regression.py"
    result = subprocess.run(
        [sys.executable, str(example), "--quick", "--epochs", "3", "--verbose", "0",
         "--project", str(tmp_path / "ames")], cwd=tmp_path, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout
    for label in ("best model, test RMSE", "ensemble of the best trials, test RMSE",
                  "gradient boosting (same search rows), test RMSE", "mean predictor, test RMSE"):
        assert re.search(rf"\| {re.escape(label)} \| \$[\d,]+ \|", lines), label
    assert "test rows 733" in lines, "the last 25% of the 2930 rows are held out"
    assert (tmp_path / "ames" / "ensemble.keras").is_file()
