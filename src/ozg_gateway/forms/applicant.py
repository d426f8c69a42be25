"""The applicant's contact: the same fields and German labels in the API, the PDF and receipts."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

PHONE = r"^\+?[0-9 ()/\-]{5,30}$"


class Applicant(BaseModel):
    """Contact of the person or organisation applying; e-mail or phone is required."""

    model_config = ConfigDict(
        extra="forbid",
        title="Kontakt der antragstellenden Person",
        json_schema_extra={
            "description": "Wie die Behörde Sie erreicht: E-Mail-Adresse oder Telefonnummer "
            "ist nötig, die übrigen Wege sind freiwillig."
        },
    )

    given_name: str | None = Field(default=None, min_length=1, max_length=100, title="Vorname(n)")
    family_name: str = Field(min_length=1, max_length=100, title="Familienname")
    organisation: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        title="Organisation",
        description="Wenn Sie für einen Verein oder ein Unternehmen handeln.",
    )
    email: EmailStr | None = Field(
        default=None, title="E-Mail-Adresse", description="Für Rückfragen und den Bescheid."
    )
    phone: str | None = Field(default=None, pattern=PHONE, title="Telefon")
    de_mail: EmailStr | None = Field(
        default=None, title="De-Mail-Adresse", description="Für Antworten per De-Mail."
    )
    fink_postfach: str | None = Field(
        default=None,
        max_length=150,
        pattern=r"^[-._a-z0-9~/]*$",
        title="Postfach im Nutzerkonto (FINK)",
        description="Postfachreferenz in einem interoperablen Servicekonto.",
    )
    fink_host: str | None = Field(
        default=None, max_length=2000, title="Adresse des Nutzerkontos (FINK)"
    )
    elster_account_id: str | None = Field(
        default=None,
        pattern=r"^\d{10}$",
        title="ELSTER-Konto",
        description="Zehn Ziffern, für Antworten über ELSTER-Transfer.",
    )

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.email and not self.phone:
            raise ValueError("Bitte eine E-Mail-Adresse oder Telefonnummer angeben.")
        return self


# What the PDF form asks (the reply channels beyond e-mail stay online-only).
PDF_FIELDS = ("given_name", "family_name", "organisation", "email", "phone")


def pdf_schema() -> dict[str, object]:
    """The applicant's part of the PDF form: its fields as JSON Schema with German titles."""
    schema = Applicant.model_json_schema()
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k in PDF_FIELDS}
    return schema
