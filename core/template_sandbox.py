"""Checking and rendering people's Jinja2 templates where they cannot hurt the app.

Jinja2's immutable sandbox keeps a template away from Python internals and from changing data, but
not from burning CPU, memory or stack (`{% set a = a ~ a %}` twenty times, `"%999999999s" % x`,
nested loops, recursive macros, 5,000 nested parentheses that recurse the parser). So every step
that reads template text (parsing, finding the variables it uses, rendering) runs in a short-lived
child process (`python -m core.template_sandbox`, importing only Jinja2) that caps its own CPU
time, address space and recursion depth first. The app's process only sends text and gets back a
`Result`: text or a readable error, never a hang or an exception.

At most `MAX_CHILDREN` children run at once per app process; a caller beyond that waits up to
`BUSY_WAIT_SECONDS` and is then told the service is busy, so a burst of previews cannot hold more
than `MAX_CHILDREN * MEMORY_BYTES` of memory.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 50_000
MAX_LOOP_STEPS = 10_000
CPU_SECONDS = 2
# Measured: a child rendering the shipped post with a large context, or 10,000 loop steps up to
# the output cap, peaks at 26 MB of address space (bare Python: 13 MB). 128 MB leaves room for
# any legitimate template and stops blow-ups long before they matter to the machine.
MEMORY_BYTES = 128 * 1024 * 1024
RECURSION_LIMIT = 400
WALL_SECONDS = 10
MAX_CHILDREN = 2
BUSY_WAIT_SECONDS = 5.0

BUSY = "The template service is busy; try again in a moment."
TOO_LONG = "The template took too long to render."
TOO_MUCH_MEMORY = "The template needs too much memory to render."
TOO_DEEP = "The template is nested too deeply."
BROKEN = "The template could not be run."

_ROOT = Path(__file__).resolve().parent.parent
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LD_LIBRARY_PATH", "PYTHONPATH")  # never the app's secrets
_children = threading.BoundedSemaphore(MAX_CHILDREN)


@dataclass(frozen=True)
class Result:
    """What the child said: `text` (when rendered), else `error` or the `unknown` names used."""

    text: str | None = None
    error: str | None = None
    unknown: tuple[str, ...] = ()


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


# ----------------------------------------------------------------- in the app's process


def check(body: str, known: Iterable[str]) -> Result:
    """Parse `body` in the child: an error (syntax, too deep…) or the names it uses outside `known`."""
    return _ask_child({"body": body, "known": sorted(known), "context": None})


def render(body: str, context: dict, *, known: Iterable[str] | None = None) -> Result:
    """Check (when `known` is given) and render `body` with `context` (JSON data) in the child."""
    return _ask_child({"body": body, "known": None if known is None else sorted(known), "context": context})


def _ask_child(request: dict) -> Result:
    if len(request["body"]) > MAX_TEMPLATE_CHARS:
        return Result(error=f"A template can be at most {MAX_TEMPLATE_CHARS:,} characters.")
    if not _children.acquire(timeout=BUSY_WAIT_SECONDS):
        return Result(error=BUSY)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "core.template_sandbox"], input=json.dumps(request), capture_output=True,
            text=True, timeout=WALL_SECONDS, cwd=_ROOT, env={k: os.environ[k] for k in _PASSED_ENV if k in os.environ},
        )
    except subprocess.TimeoutExpired:
        return Result(error=TOO_LONG)
    except OSError:  # cannot start a process at all (the machine is out of processes or memory)
        return Result(error=BUSY)
    finally:
        _children.release()
    if done.returncode != 0:
        if "MemoryError" in done.stderr:
            return Result(error=TOO_MUCH_MEMORY)
        if "RecursionError" in done.stderr:
            return Result(error=TOO_DEEP)
        if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # its CPU limit, soft then hard
            return Result(error=TOO_LONG)
        return Result(error=BROKEN)
    try:
        reply = json.loads(done.stdout)
        return Result(text=reply.get("text"), error=reply.get("error"), unknown=tuple(reply.get("unknown", ())))
    except (ValueError, AttributeError, TypeError):
        return Result(error=BROKEN)


# ----------------------------------------------------------------- in the child


def _serve(request: dict) -> dict:
    """In the child: {"text": …}, {"error": message for the user}, {"unknown": [names]} or {}."""
    body, known, context = request["body"], request["known"], request["context"]
    try:
        tree = environment.parse(body)
        if known is not None:
            unknown = sorted(meta.find_undeclared_variables(tree) - set(known) - set(environment.globals))
            if unknown:
                return {"unknown": unknown}
        template = environment.from_string(tree)  # compiling finds unknown filters and tests too
        if context is None:
            return {}
    except TemplateSyntaxError as error:
        return {"error": f"Template error on line {error.lineno}: {error.message}"}
    except RecursionError:
        return {"error": f"{TOO_DEEP[:-1]} (brackets, blocks or expressions inside one another)."}
    except MemoryError:
        return {"error": TOO_MUCH_MEMORY}
    except Exception as error:  # anything else Jinja2 refuses while compiling is still the template's fault
        return {"error": f"The template could not be read: {str(error)[:300]}."}
    return _render_here(template, context)


def _render_here(template, context: dict) -> dict:
    try:
        pieces, size = [], 0
        for piece in template.generate(**context):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                return {"error": f"The result is longer than {MAX_OUTPUT_CHARS:,} characters."}
            pieces.append(piece)
    except SecurityError as error:
        return {"error": f"The template tried something that is not allowed ({error})."}
    except UndefinedError as error:
        return {"error": f"The template uses something that is not there: {error.message}."}
    except MemoryError:
        return {"error": TOO_MUCH_MEMORY}
    except RecursionError:
        return {"error": "The template calls itself too deeply."}
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, OverflowError) as error:
        return {"error": f"The template could not be rendered: {str(error)[:300]}."}
    return {"text": re.sub(r"\n{3,}", "\n\n", "".join(pieces)).strip() + "\n"}


def _main() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    sys.setrecursionlimit(RECURSION_LIMIT)
    request = json.loads(sys.stdin.read())
    json.dump(_serve(request), sys.stdout)


if __name__ == "__main__":
    _main()
