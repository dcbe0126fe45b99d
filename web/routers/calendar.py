"""The deadline calculator: what the product computes for a start and a period (``/api/v1/calendar/due``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from agencies.input_messages import has_chinese
from engine.clock import ensure_aware
from engine.deadlines.periods import Period, compute_due
from engine.errors import FieldError, InvalidInput
from web.deps import CurrentUser, ProductDep
from web.schemas import DueOut

router = APIRouter(tags=["calendar"])


@router.get("/api/v1/calendar/due", response_model=DueOut)
def calendar_due(_principal: CurrentUser, product: ProductDep, start: datetime,
                 period: Annotated[str, Query(max_length=10, examples=["7wd", "60cd"])]) -> DueOut:
    """The deadline the product computes: start day not counted, Chinese working days, 24:00 Shanghai."""
    try:
        parsed = Period.parse(period)
    except ValueError as exc:
        raise InvalidInput([FieldError("period", str(exc))]) from None
    try:
        deadline = compute_due(parsed, ensure_aware(start), product.deadlines.calendar)
    except (ValueError, OverflowError) as exc:  # a naive time, or a year beyond every calendar
        message = str(exc) if has_chinese(str(exc)) else f"无法按该起算时间计算期限 / {exc}"
        raise InvalidInput([FieldError("start", message)]) from None
    return DueOut(start=start, period=str(parsed), due_at=deadline.due_at, last_day=deadline.last_day,
                  provisional=deadline.provisional)
