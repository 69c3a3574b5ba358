"""The live HTTP/WebSocket API (FastAPI) over the picture hub: see docs/api.md."""

from skyfence.api.app import HistorySource, create_app
from skyfence.api.tokens import Principal, Tokens, load_tokens

__all__ = ["HistorySource", "Principal", "Tokens", "create_app", "load_tokens"]
