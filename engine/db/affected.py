"""How many rows an UPDATE or DELETE changed.

``Session.execute`` is typed as returning a plain ``Result``; for data-changing statements it is a
``CursorResult``, which carries ``rowcount``. One typed place says so instead of a cast at every call.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rows_affected(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)
