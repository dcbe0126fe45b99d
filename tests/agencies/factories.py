"""Valid test data computed with stdnum (never hand-typed check digits), a complaint body, and the
lookups tests make through the functions the product itself reads with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from agencies.repository import get_agency_by_code
from agencies.tables import Agency, Complaint
from engine.clock import SHANGHAI
from web.queries import complaint_detail

NOW = datetime(2026, 5, 6, 10, 30, tzinfo=SHANGHAI)


def id_number(first17: str) -> str:
    """An ID number with the right check digit (stdnum wants the number with a check digit)."""
    assert len(first17) == 17
    return first17 + ric.calc_check_digit(first17 + "0")


def credit_code(first17: str) -> str:
    """A USCC with the right check digit."""
    assert len(first17) == 17
    return first17 + uscc.calc_check_digit(first17)


def wrong_check_digit(number: str) -> str:
    last = number[-1]
    replacement = "1" if last != "1" else "2"
    return number[:-1] + replacement


# Born in Taihe (code in use since 1996) on 1998-03-15; one whose check digit is X; one in Beijing.
TAIHE_ID = id_number("34122219980315211")
X_ID = id_number("34122219980310003")
BEIJING_ID = id_number("11010519850704002")
SHOP_USCC = credit_code("91341222MA2TQ8R5X")


def complaint_payload(**overrides: Any) -> dict[str, Any]:
    """A valid complaint body (``POST /api/v1/complaints``) about a shop in Taihe county."""
    payload: dict[str, Any] = {
        "kind": "complaint",
        "received_at": "2026-05-06T09:15:00+08:00",
        "complainant": {"name": "张三", "phone": "13812345678", "id_number": TAIHE_ID, "email": "zs@example.cn"},
        "business": {
            "name": "太和县某某电器商行",
            "region_code": "341222",
            "address": "安徽省阜阳市太和县城关镇人民路88号",
            "uscc": SHOP_USCC,
            "platform": None,
        },
        "category": "quality",
        "subject": "空调安装后不制冷",
        "description": "2026年5月1日购买空调一台，安装后不制冷，商家拒绝维修。",
        "amount": "2999.00",
        "occurred_on": "2026-05-01",
    }
    payload.update(overrides)
    return payload


def seeded_agency(session: Session, code: str) -> Agency:
    """A seeded agency, found as the product finds one (``get_agency_by_code``)."""
    found = get_agency_by_code(session, code)
    assert found is not None, code
    return found


def involved_agencies(session: Session, complaint: Complaint) -> dict[str, str]:
    """agency code → involvement, as the API's complaint detail shows it to the receiving agency."""
    session.flush()
    detail = complaint_detail(session, complaint, NOW, complaint.received_by_id)
    return dict(detail["involved_agencies"])
