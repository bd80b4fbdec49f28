"""Web archives (WARC) as a source: backfill from files such as Common Crawl's CC-NEWS.

A file is *scanned* once, streamed with FastWARC (docs/choices.md says why that library):
each record's headers and first bytes go through the prefilters (:class:`Filters`), and the
records kept are sent on in *ranges* of offsets, which ingest tasks on the ``backfill``
queue handle in parallel, on as many workers and machines as read the file. Each record is
read again by its offset (:func:`read_record`) and enters the pipeline as if just fetched,
with the URL, date and provenance the archive gives it. Progress is checkpointed in Redis
per file (:class:`JobState`), so that a killed worker loses nothing and the same file again
adds nothing.
"""

from ._detect import GZIP, PLAIN, warc_format, warc_format_of
from ._filters import DROP_REASONS, Filters, parse_hosts, utc_bound
from ._head import Broken, Head
from ._read import read_record
from ._run import RANGE_KIND, SCAN_KIND, record_source, run_range, run_scan, scan_payload
from ._scan import scan
from ._state import DONE, FAILED, INGESTING, SCANNING, JobState, Progress, file_identity, job_id

__all__ = [
    "DONE",
    "DROP_REASONS",
    "FAILED",
    "GZIP",
    "INGESTING",
    "PLAIN",
    "RANGE_KIND",
    "SCANNING",
    "SCAN_KIND",
    "Broken",
    "Filters",
    "Head",
    "JobState",
    "Progress",
    "file_identity",
    "job_id",
    "parse_hosts",
    "read_record",
    "record_source",
    "run_range",
    "run_scan",
    "scan",
    "scan_payload",
    "utc_bound",
    "warc_format",
    "warc_format_of",
]
