"""analyst: read a news article, write what a sharp analyst would.

from analyst import summarize_text, Settings
report = summarize_text(text, settings=Settings(model="gpt-4o-mini"))
print(report.summary)
for fact in report.facts:
    print(fact.text, "—", fact.evidence)
"""

from __future__ import annotations

from analyst.api import (
    asummarize_file,
    asummarize_text,
    asummarize_url,
    summarize_file,
    summarize_text,
    summarize_url,
)
from analyst.batch import BatchEvent, BatchResult, asummarize_folder, summarize_folder
from analyst.digest import Digest, digest
from analyst.errors import (
    AnalystError,
    AuthenticationError,
    BudgetError,
    ConfigError,
    ContextOverflowError,
    InputError,
    MalformedReplyError,
    ModelOutputError,
    ModelServerError,
    UnknownModelError,
)
from analyst.model.seam import (
    AsyncChatClient,
    ChatClient,
    ChatRequest,
    ClientInfo,
    Completion,
    Message,
    OutputSchema,
    StructuredMode,
)
from analyst.schema import Fact, Implication, Report, Verification
from analyst.session import Session
from analyst.settings import Settings
from analyst.version import __version__

__all__ = [
    "AnalystError",
    "AsyncChatClient",
    "AuthenticationError",
    "BatchEvent",
    "BatchResult",
    "BudgetError",
    "ChatClient",
    "ChatRequest",
    "ClientInfo",
    "Completion",
    "ConfigError",
    "ContextOverflowError",
    "Fact",
    "Implication",
    "InputError",
    "MalformedReplyError",
    "Message",
    "ModelOutputError",
    "ModelServerError",
    "OutputSchema",
    "Report",
    "Session",
    "Settings",
    "StructuredMode",
    "UnknownModelError",
    "Verification",
    "__version__",
    "asummarize_file",
    "asummarize_folder",
    "Digest",
    "digest",
    "asummarize_text",
    "asummarize_url",
    "summarize_file",
    "summarize_folder",
    "summarize_text",
    "summarize_url",
]
