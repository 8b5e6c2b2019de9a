"""The batch's Certificate of Analysis and its disposition report, as PDF (WeasyPrint).

Both show every signature of the disposition with the printed name, the UTC time and the
meaning (21 CFR 11.50), as the pages do.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from opencdmo.audit.export import PdfUnavailableError
from opencdmo.manufacturing.models import Batch
from opencdmo.quality import services
from opencdmo.quality.disposition import review_of

__all__ = ["certificate_of_analysis", "disposition_report"]


def _render(template: str, context: dict[str, Any]) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:
        raise PdfUnavailableError(
            "PDF documents need the Pango libraries (make pdf-libs)."
        ) from exc
    html = render_to_string(template, {**context, "generated_at": timezone.now()})
    return bytes(HTML(string=html).write_pdf())


def _context(batch: Batch) -> dict[str, Any]:
    review = review_of(batch)
    signatures = services.signatures_of(review.disposition) if review.disposition else []
    return {"batch": batch, "review": review, "signatures": signatures}


def certificate_of_analysis(batch: Batch) -> bytes:
    """Every offline result of the batch against its specification, with the signatures."""
    return _render("quality/pdf/coa.html", _context(batch))


def disposition_report(batch: Batch) -> bytes:
    """Results, deviations, the process-data verdict and the disposition with signatures."""
    return _render("quality/pdf/disposition.html", _context(batch))
