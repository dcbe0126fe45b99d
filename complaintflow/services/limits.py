"""Per-address limits on the public endpoints (the complaint form, the status lookup)."""

from __future__ import annotations

from complaintflow import rate_limits
from complaintflow.wiring import Product


def admit_request(product: Product, limit: rate_limits.Limit, subject: str) -> bool:
    """Count this request against ``limit`` for ``subject`` (an address), shared by every server
    process; ``False`` (and nothing counted) once the limit is used up."""
    with product.uow() as uow:
        admitted = rate_limits.admit(uow.session, limit, subject, product.clock.now())
        uow.commit()
    return admitted
