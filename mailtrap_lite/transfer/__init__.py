"""Import and export: mbox, Maildir, .eml files and zip files in and out, and migration
from Mailpit and MailHog.

Readers (files.py, mbox.py, peers.py) yield messages with what their source knew; an
Importer (load.py) puts them through a Store as SMTP mail goes, in batched transactions,
or sends them to a running server (remote.py). An Exporter (dump.py) pages through a
Store into a writer (writers.py). Raw bytes always go in and out exactly as stored.
"""

from mailtrap_lite.transfer.dump import Exporter
from mailtrap_lite.transfer.items import Failure, Item, TransferError
from mailtrap_lite.transfer.load import Importer, StopFlag, StoreTarget, Tally

__all__ = [
    "Exporter",
    "Failure",
    "Importer",
    "Item",
    "StopFlag",
    "StoreTarget",
    "Tally",
    "TransferError",
]
