"""The command line: help, version, clear errors, and a fast start."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO, venv_bin

from viva import __version__
from viva.cli import main


def run_viva(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([venv_bin("viva"), *args], capture_output=True, text=True, cwd=REPO, timeout=120, **kwargs)


def test_help_lists_subcommands() -> None:
    out = run_viva("--help")
    assert out.returncode == 0
    for command in ("app", "models"):
        assert f"\n    {command} " in out.stdout, out.stdout


def test_version() -> None:
    out = run_viva("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"viva {__version__}"


def test_help_imports_nothing_heavy() -> None:
    """`viva --help` must not pay for torch, sentence-transformers, FAISS or Textual."""
    code = (
        "import sys\n"
        "from viva.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'faiss', 'textual') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_missing_llm_path_is_a_clear_error(capsys, tmp_path) -> None:
    missing = tmp_path / "nope.gguf"
    assert main(["--llm", str(missing), "models"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and str(missing) in err


def test_non_gguf_llm_file_is_refused(capsys, tmp_path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a gguf file at all")
    assert main(["--llm", str(fake), "models"]) == 2
    assert "not a GGUF file" in capsys.readouterr().err


def test_data_dir_flag_reaches_every_layer(tmp_path, capsys) -> None:
    target = tmp_path / "elsewhere"
    assert main(["--data-dir", str(target), "models", "--json"]) == 0
    import json

    info = json.loads(capsys.readouterr().out)
    assert info["data_dir"] == str(target)
    assert target.is_dir()
