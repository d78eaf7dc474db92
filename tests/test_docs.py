"""The code users copy from the README and the About page runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _run_training_snippet(code: str, loader) -> dict:
    namespace = {"loader": loader}
    exec(compile(code, "<snippet>", "exec"), namespace)  # our own docs, not user input
    return namespace


def test_readme_training_example_runs():
    (code,) = [b for b in _python_blocks((ROOT / "README.md").read_text()) if "VRAdam(" in b]
    gen = torch.Generator().manual_seed(0)
    loader = [(torch.randn(8, 784, generator=gen), torch.randint(0, 10, (8,), generator=gen))] * 3
    ns = _run_training_snippet(code, loader)
    assert ns["eta"].ndim == 0 and 0 < float(ns["eta"]) <= 1e-3
    assert float(ns["v2"]) > 0


def test_about_page_example_runs():
    page = (ROOT / "app_pages" / "about.py").read_text()
    pattern = r'st\.code\(\n    """(import torch.*?)""",\n    language="python"'
    (code,) = re.findall(pattern, page, re.S)
    gen = torch.Generator().manual_seed(0)
    loader = [(torch.randn(4, 10, generator=gen), torch.randn(4, 1, generator=gen))] * 3
    ns = _run_training_snippet(code, loader)
    assert float(ns["eta"]) <= 1e-3


def test_readme_simulate_example_runs(capsys):
    (code,) = [b for b in _python_blocks((ROOT / "README.md").read_text()) if "simulate(" in b]
    _run_training_snippet(code, loader=None)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Adam") and lines[1].startswith("VRAdam")


@pytest.mark.slow  # 14 s
def test_readme_cli_example_runs(tmp_path):
    import shlex
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text()
    block = re.findall(r"```bash\n(python -m vradam simulate.*?)```", text, flags=re.S)[0]
    commands = block.replace("\\\n", " ").strip().splitlines()
    assert len(commands) == 2
    for command in commands:
        argv = shlex.split(command)
        assert argv[:3] == ["python", "-m", "vradam"]
        subprocess.run([sys.executable, *argv[1:]], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "runs.csv").exists() and (tmp_path / "basins.json").exists()
