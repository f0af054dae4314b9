"""The prompt texts under core/prompts, read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS = Path(__file__).resolve().parent / "prompts"


@cache
def prompt(name: str) -> str:
    return (PROMPTS / f"{name}.txt").read_text()
