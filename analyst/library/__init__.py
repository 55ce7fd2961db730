"""A library that keeps its reports: every report ``analyst serve`` makes, and the report files
of a folder (a batch's output), in one SQLite file, searchable by their words (FTS5) and
filtered by site, date and language.

    from analyst.library import Library, Query, scan

    with Library(Path("out")) as library:
        scan(library)                                   # index the folder's reports
        for entry in library.search(Query.of("tariffs", site="Reuters")).entries:
            report = library.get(entry.id)
"""

from analyst.library.query import Query
from analyst.library.scan import Scanned, scan, scan_if_stale
from analyst.library.store import FILE, Entry, Found, Library

__all__ = ["FILE", "Entry", "Found", "Library", "Query", "Scanned", "scan", "scan_if_stale"]
