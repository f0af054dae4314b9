"""Rendering people's Jinja2 templates where they cannot hurt the app.

Jinja2's immutable sandbox keeps a template away from Python internals and from changing data, but
not from burning CPU or memory (`{% set a = a ~ a %}` twenty times, `"%999999999s" % x`, nested
loops, recursive macros). So each render runs in a short-lived child process (`python -m
core.template_sandbox`, importing only Jinja2) that caps its own CPU time and address space first;
the app gets back text or a readable error, never a hang.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys

from jinja2 import StrictUndefined, TemplateError
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 50_000
MAX_LOOP_STEPS = 10_000
CPU_SECONDS = 2
MEMORY_BYTES = 768 * 1024 * 1024
WALL_SECONDS = 10


class _Sandbox(ImmutableSandboxedEnvironment):
    """Cheap early refusals for the obvious blow-ups; the process limits catch the rest."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and not (isinstance(left, int) and isinstance(right, int) and abs(left) < 1000
                                     and 0 <= right <= 64):
            raise SecurityError("powers are limited to small whole numbers")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT_CHARS:
                    raise SecurityError("the repeated text is too long")
        return super().call_binop(context, operator, left, right)


def _limited_range(*args: int) -> range:
    span = range(*args)
    if len(span) > MAX_LOOP_STEPS:
        raise SecurityError(f"a range can have at most {MAX_LOOP_STEPS:,} steps")
    return span


environment = _Sandbox(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
environment.globals.pop("lipsum", None)
environment.globals["range"] = _limited_range


def _render_here(body: str, context: dict) -> dict:
    """In the child: the text, or {"error": message for the user}."""
    try:
        pieces, size = [], 0
        for piece in environment.from_string(body).generate(**context):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                return {"error": f"The result is longer than {MAX_OUTPUT_CHARS:,} characters."}
            pieces.append(piece)
    except SecurityError as error:
        return {"error": f"The template tried something that is not allowed ({error})."}
    except UndefinedError as error:
        return {"error": f"The template uses something that is not there: {error.message}."}
    except MemoryError:
        return {"error": "The template needs too much memory to render."}
    except RecursionError:
        return {"error": "The template calls itself too deeply."}
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, OverflowError) as error:
        return {"error": f"The template could not be rendered: {str(error)[:300]}."}
    return {"text": re.sub(r"\n{3,}", "\n\n", "".join(pieces)).strip() + "\n"}


def render(body: str, context: dict) -> tuple[str | None, str | None]:
    """(text, None) or (None, error message). `context` must be JSON data."""
    try:
        done = subprocess.run([sys.executable, "-m", "core.template_sandbox"], input=json.dumps(
            {"body": body, "context": context}), capture_output=True, text=True, timeout=WALL_SECONDS)
    except subprocess.TimeoutExpired:
        return None, "The template took too long to render."
    if done.returncode != 0:
        if "MemoryError" in done.stderr:
            return None, "The template needs too much memory to render."
        return None, "The template took too long to render."  # killed at its CPU limit
    reply = json.loads(done.stdout)
    return reply.get("text"), reply.get("error")


def _main() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    sys.setrecursionlimit(400)
    request = json.loads(sys.stdin.read())
    json.dump(_render_here(request["body"], request["context"]), sys.stdout)


if __name__ == "__main__":
    _main()
