"""The app never touches the network: loading both models with sockets forbidden."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = r"""
import socket
attempts = []
def refuse(self, address, *args, **kwargs):
    attempts.append(address)
    raise OSError(f"viva test: network access attempted to {address!r}")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = lambda address, *a, **k: refuse(None, address)

from core.models import load_embedder, load_llm
emb = load_embedder()
emb.encode(["offline check"])
llm = load_llm()
assert attempts == [], attempts
print("OFFLINE-OK")
"""


@pytest.mark.slow
def test_loading_models_makes_no_network_connection() -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OFFLINE-OK" in out.stdout
