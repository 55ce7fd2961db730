"""Many articles at once: folders on this machine (``local``), on a Ray cluster (``ray_engine``),
or through a provider's Batch API (``provider``); one manifest per output folder records what
happened to each article (``manifest``), request slots bound what is in flight (``slots``)."""

from analyst.batch.local import asummarize_folder, summarize_folder
from analyst.batch.results import BatchEvent, BatchResult

__all__ = ["BatchEvent", "BatchResult", "asummarize_folder", "summarize_folder"]
