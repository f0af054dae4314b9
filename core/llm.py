"""The configured chat model (OpenAI or any OpenAI-compatible endpoint), and its errors in words.

One place builds the LangChain chat model and turns provider failures into messages a user can
act on, for answers, chapters and summaries alike, and for the embeddings and speech-to-text a
video's processing asks the provider for.
"""

from __future__ import annotations

from core.errors import AskVideoError, IngestError, TransientIngestError
from core.model_settings import ModelAccess


class ModelError(AskVideoError):
    """The model could not be reached or refused; what was asked is kept so it can be asked again."""


def chat_model(access: ModelAccess, timeout: int, *, streaming: bool = False, temperature: float = 0.1):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=access.chat_model, api_key=access.api_key or "not-needed", base_url=access.base_url,
                      timeout=timeout, max_retries=1, streaming=streaming, temperature=temperature)


def provider_error(error: Exception, shared: bool = False) -> ModelError:
    import openai

    if isinstance(error, openai.AuthenticationError):
        return ModelError("The AI provider refused the API key (401)."
                          + ("" if shared else " Check the key in Settings."))
    if isinstance(error, openai.PermissionDeniedError):
        return ModelError("The AI provider denied this key access to that model or service (403).")
    if isinstance(error, openai.RateLimitError):
        return ModelError("The AI provider is rate-limiting or out of quota (429). Try again in a moment.")
    if isinstance(error, openai.APITimeoutError):
        return ModelError("The AI provider did not answer in time. Try again.")
    if isinstance(error, openai.APIConnectionError):
        return ModelError("Could not reach the AI provider." + ("" if shared else " Check the base URL in Settings."))
    if isinstance(error, openai.APIStatusError):
        return ModelError(f"The AI provider failed ({error.status_code}). Try again.")
    return ModelError("The AI provider failed unexpectedly. Try again.")


def is_transient(error: Exception) -> bool:
    """A provider failure worth retrying later: rate limits, timeouts, lost connections, 5xx."""
    import openai

    if isinstance(error, (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError)):
        return True
    return isinstance(error, openai.APIStatusError) and error.status_code >= 500


def ingest_error(error: Exception, doing: str) -> IngestError:
    """A provider failure while processing a video (`doing` failed: …); the job queue retries the
    transient ones."""
    failed = TransientIngestError if is_transient(error) else IngestError
    return failed(f"{doing} failed: {provider_error(error)}")


def complete(access: ModelAccess, system: str, user: str, timeout: int) -> str:
    """One non-streamed reply to a system and a user message."""
    import openai
    from langchain_core.messages import HumanMessage, SystemMessage

    try:
        reply = chat_model(access, timeout).invoke([SystemMessage(system), HumanMessage(user)])
    except openai.OpenAIError as error:
        raise provider_error(error) from None
    return str(reply.content).strip()
