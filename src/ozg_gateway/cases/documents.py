"""Checks of uploaded PDFs, run in the sandbox: filled forms are read, attachments inspected."""

from __future__ import annotations

from ozg_gateway import sandbox
from ozg_gateway.context import GatewayContext
from ozg_gateway.errors import FieldError, Problem, validation_problem
from ozg_gateway.mappings.pdf.extract import PdfFormError, PdfInspection, active_content_error

_FORM_TASK = "ozg_gateway.mappings.pdf.extract:inspect_form"
_ATTACHMENT_TASK = "ozg_gateway.mappings.pdf.extract:inspect_attachment"
_SLUG_OF = {"not_a_pdf": "unsupported-media-type", "corrupt": "malformed-request"}


def pdf_problem(exc: PdfFormError) -> Problem:
    """The answer to an unusable PDF: 415, 400 or 422 on ``/file``."""
    slug = _SLUG_OF.get(exc.code)
    if slug:
        return Problem(slug, detail=str(exc))
    return validation_problem([FieldError("/file", exc.code, str(exc))], detail=str(exc))


def _limits(ctx: GatewayContext) -> sandbox.Limits:
    bounds = ctx.settings.limits
    return sandbox.Limits(bounds.parse_seconds, bounds.parse_memory_mb * 1024 * 1024)


async def _run(ctx: GatewayContext, task: str, pdf: bytes) -> dict[str, object]:
    try:
        answer = await sandbox.run(task, pdf, limits=_limits(ctx))
    except sandbox.SandboxError as exc:
        if exc.reason == "crash":
            raise pdf_problem(
                PdfFormError("corrupt", "Das PDF ist beschädigt und kann nicht gelesen werden.")
            ) from None
        raise pdf_problem(
            PdfFormError(
                "too_complex",
                "Das PDF ist zu aufwendig aufgebaut, um es zu prüfen; bitte neu speichern.",
            )
        ) from None
    if not isinstance(answer, dict):
        raise Problem("internal-error")
    return answer


async def inspect_form(ctx: GatewayContext, pdf: bytes) -> PdfInspection:
    """Marker, field values and checks of a filled form; Problem on anything unusable."""
    answer = await _run(ctx, _FORM_TASK, pdf)
    ok = answer.get("ok")
    if isinstance(ok, dict):
        return PdfInspection.from_json(ok)
    raise pdf_problem(PdfFormError(str(answer.get("error")), str(answer.get("message"))))


async def refuse_active_content(ctx: GatewayContext, pdf: bytes) -> None:
    """422 for an attached PDF with JavaScript or launch actions."""
    answer = await _run(ctx, _ATTACHMENT_TASK, pdf)
    kinds = answer.get("active")
    if isinstance(kinds, list) and kinds:
        raise pdf_problem(active_content_error(tuple(str(k) for k in kinds)))
