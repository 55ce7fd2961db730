"""analyst: read a news article, write what a sharp analyst would.

from analyst import summarize_text, Settings
report = summarize_text(text, settings=Settings(model="gpt-4o-mini"))
print(report.summary)
for fact in report.facts:
    print(fact.text, "—", fact.evidence)
"""

from __future__ import annotations

__version__ = "0.1.0"

from analyst.backends import (
    AsyncChatClient,
    ChatClient,
    Completion,
    Message,
    OutputSchema,
    StructuredMode,
)
from analyst.batch import BatchEvent, BatchResult, asummarize_folder, summarize_folder
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
from analyst.pipeline import summarize_file, summarize_text, summarize_url
from analyst.schema import Fact, Implication, Report, Verification
from analyst.settings import Settings

__all__ = [
    "AnalystError",
    "AsyncChatClient",
    "AuthenticationError",
    "BatchEvent",
    "BudgetError",
    "BatchResult",
    "ChatClient",
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
    "Settings",
    "StructuredMode",
    "UnknownModelError",
    "Verification",
    "__version__",
    "asummarize_folder",
    "summarize_file",
    "summarize_folder",
    "summarize_text",
    "summarize_url",
]
