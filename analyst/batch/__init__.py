"""Many articles at once: ``run_batch(BatchPlan(...))`` is ``analyst batch`` (``plan``: what goes
with what), on folders of this machine (``run`` sets a run up, ``engine`` runs it), on a Ray
cluster (``ray_engine``), or through a provider's Batch API (``provider``); one manifest per
output folder records what happened to each article (``manifest``), request slots bound what is
in flight (``slots``)."""

from analyst.batch.plan import BatchPlan, run_batch
from analyst.batch.results import BatchEvent, BatchResult
from analyst.batch.run import asummarize_folder, summarize_folder

__all__ = [
    "BatchEvent",
    "BatchPlan",
    "BatchResult",
    "asummarize_folder",
    "run_batch",
    "summarize_folder",
]
