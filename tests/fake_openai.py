"""A fake OpenAI-compatible server on 127.0.0.1: records every request, answers like the API.

Tests read `requests` to check what was sent (the bearer key, the prompt), and set `fail_with`
to make the next calls answer an HTTP error, or `delay` to make them slow.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


@dataclass
class Recorded:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def is_chat(self) -> bool:
        return self.path.endswith("/chat/completions")


@dataclass
class FakeOpenAI:
    requests: list[Recorded] = field(default_factory=list)
    fail_with: int | None = None
    delay: float = 0.0
    transcript: list[tuple[float, float, str]] = field(
        default_factory=lambda: [(0.0, 2.0, "Hello from the fake transcriber."), (2.5, 3.5, "Second line.")]
    )
    chat_reply: str = "The answer is in the passage [1]."
    rewrite_reply: str | None = None  # what a non-streaming chat call (question rewriting) returns

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                fake.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail_with:
                    # A busy server may say when to come back; saying "at once" keeps the client's
                    # retries (it still makes them all) from sleeping seconds of backoff in every test.
                    return self._json(fake.fail_with, {"error": {"message": f"fake error {fake.fail_with}",
                                                                 "type": "fake", "code": str(fake.fail_with)}},
                                      headers={"retry-after-ms": "10"})
                if self.path.endswith("/audio/transcriptions"):
                    segments = [{"id": i, "start": a, "end": b, "text": t} for i, (a, b, t) in
                                enumerate(fake.transcript)]
                    return self._json(200, {"text": " ".join(t for _, _, t in fake.transcript),
                                            "segments": segments, "language": "english", "duration": 4.0})
                if self.path.endswith("/embeddings"):
                    request = json.loads(body)
                    inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
                    dims = request.get("dimensions", 1536)
                    data = [{"object": "embedding", "index": i, "embedding": _vector(str(x), dims)}
                            for i, x in enumerate(inputs)]
                    return self._json(200, {"object": "list", "data": data, "model": request["model"],
                                            "usage": {"prompt_tokens": 1, "total_tokens": 1}})
                if self.path.endswith("/chat/completions"):
                    return self._chat(json.loads(body))
                return self._json(404, {"error": {"message": "unknown path"}})

            def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _chat(self, request: dict) -> None:
                words = fake.chat_reply.split(" ")
                if not request.get("stream"):
                    reply = fake.rewrite_reply if fake.rewrite_reply is not None else fake.chat_reply
                    return self._json(200, {
                        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": request["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": reply}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i, word in enumerate(words):
                    chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                             "model": request["model"], "choices": [{"index": 0, "delta": {
                                 "content": word + (" " if i < len(words) - 1 else "")}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                done = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                        "model": request["model"], "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # close() waits for the serving loop to look up: at the default 0.5 s that was half a
        # second at the end of every test that used this server.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _vector(text: str, dims: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).standard_normal(dims)
    return (v / np.linalg.norm(v)).tolist()
