"""Access logs at production scale: nginx, Apache, ALB, CloudFront and JSON lines, on DuckDB.

``tracehound import access.log`` streams a log of any size into an import folder (Parquet
partitioned by day, :mod:`.folder`) in bounded memory; :mod:`.queries` computes, in SQL, the
aggregates the traffic analysis needs (statuses, latency histograms, failures per time bucket,
failures per attribute value), so that a week of logs is analysed without loading a column.

>>> imp = import_access_log("access.log.gz")
>>> imp.imported.format, imp.imported.rows, imp.imported.bad_lines
('nginx', 41250112, 3)
"""

from tracehound.access.folder import ImportFolder
from tracehound.access.formats import FORMATS, parse_mapping
from tracehound.access.importer import import_access_log, sniff_file

__all__ = ["FORMATS", "ImportFolder", "import_access_log", "parse_mapping", "sniff_file"]
