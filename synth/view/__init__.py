"""`synth view`: a local, read-only viewer of a run directory.

    RunView        the run as the viewer reads it (manifest, kept / rejected / failed rows, coverage)
    ViewServer     the page and its JSON API on 127.0.0.1 (standard library http.server)
    write_html     the same page as one self-contained HTML file

Rows are paged and searched on the server over the run's parquet shards and JSONL files, one
record batch at a time, so a run of a million rows is never loaded whole (synth.view.tables).
See docs/viewer.md.
"""

from synth.view.export import write_html
from synth.view.run import RunView
from synth.view.server import ViewServer

__all__ = ["RunView", "ViewServer", "write_html"]
