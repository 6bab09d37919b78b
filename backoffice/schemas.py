"""Plain data shared by every area: a JSON body, and a stored file with how to serve it.

Each area's own data lives in its `schemas.py` (counter services in `appointments/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredFile:
    """The bytes of a document and how to serve them."""

    filename: str
    content_type: str
    content: bytes
