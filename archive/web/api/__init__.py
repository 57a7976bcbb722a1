"""The JSON API: /api/v1 (read and write, described by /api/openapi.json) and the first read-only routes.

One module per feature declares its /api/v1 operations on the v1 blueprint (archive.web.api.operations);
importing them here registers them.
"""

from archive.web.api import annotations, catalogue, geography, items, journeys, search, uploads  # noqa: F401  (declare the operations)
from archive.web.api.legacy import bp
from archive.web.api.openapi import bp as docs_bp
from archive.web.api.operations import v1

__all__ = ["bp", "docs_bp", "v1"]
