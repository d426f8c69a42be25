"""The service catalogue: what a municipality offers, on which channel, for which fee."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, PrivateAttr, model_validator

from ozg_gateway.catalog.eid_attributes import ORDER as EID_ATTRIBUTES

ReplyChannel = Literal["eMail", "deMail", "fink", "elster"]


class Channel(StrEnum):
    """How citizens use an offer: digital process, PDF form, or both."""

    online = "online"
    pdf = "pdf"
    hybrid = "hybrid"


class EidMode(StrEnum):
    """Whether identification with the German eID is needed."""

    none = "none"
    optional = "optional"
    required = "required"


class AssuranceLevel(StrEnum):
    """eIDAS level of assurance."""

    substantial = "substantial"
    high = "high"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Office(_Strict):
    """Authority responsible for an offer."""

    name: str = Field(min_length=1, max_length=200)
    ags: str = Field(pattern=r"^\d{8}$", description="Amtlicher Gemeindeschlüssel, 8 digits.")


class Fee(_Strict):
    """Fee in euro cents; ``additional_copy_cents`` prices each further copy of a document."""

    amount_cents: int = Field(default=0, ge=0)
    additional_copy_cents: int = Field(default=0, ge=0)
    pay_before_delivery: bool = False

    def total_cents(self, copies: int = 1) -> int:
        """Fee for ``copies`` documents: the first at ``amount_cents``, each further one extra."""
        return self.amount_cents + max(0, copies - 1) * self.additional_copy_cents

    @model_validator(mode="after")
    def _payment_needs_fee(self) -> Self:
        if self.pay_before_delivery and self.amount_cents == 0:
            raise ValueError("pay_before_delivery needs a fee above 0")
        return self


class EidRequirement(_Strict):
    """Identification requirement, minimum level, and exactly what the offer may read."""

    mode: EidMode = EidMode.none
    min_level: AssuranceLevel | None = None
    attributes: tuple[str, ...] = Field(default=(), description="Read (REQUIRED).")
    optional_attributes: tuple[str, ...] = Field(default=(), description="User may deselect.")
    min_age: int | None = Field(default=None, ge=0, le=120, description="Yes/no age check.")
    place_verification: bool = Field(default=False, description="Yes/no: lives here?")
    methods: tuple[Literal["eid-server", "bundid"], ...] = Field(
        default=("eid-server",),
        min_length=1,
        description="How citizens may identify: the eID-Server, BundID, or either.",
    )

    @model_validator(mode="after")
    def _level_only_with_eid(self) -> Self:
        if self.mode == EidMode.none and self.min_level is not None:
            raise ValueError("min_level needs mode optional or required")
        unknown = set(self.attributes) | set(self.optional_attributes)
        unknown -= set(EID_ATTRIBUTES)
        if unknown:
            raise ValueError(f"unknown eID attributes: {sorted(unknown)}")
        return self


_WAYS = {"eid-server": "mit dem Online-Ausweis", "bundid": "über BundID"}


def ways_to_identify(methods: Iterable[str]) -> str:
    """The offer's identification methods as a citizen reads them ("mit dem Online-Ausweis
    oder über BundID")."""
    return " oder ".join(_WAYS[m] for m in methods if m in _WAYS) or _WAYS["eid-server"]


class Offer(_Strict):
    """One service (Verwaltungsleistung) of the catalogue."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    channel: Channel
    new_since: date | None = None
    leika_key: str | None = Field(default=None, pattern=r"^\d{14}$")
    ozg_id: str | None = Field(default=None, pattern=r"^\d{1,6}$")
    office: Office
    fee: Fee = Fee()
    eid: EidRequirement = EidRequirement()
    form_model: str | None = None
    pdf_form_url: HttpUrl | None = None
    routes: tuple[str, ...] = ()
    reply_channels: tuple[ReplyChannel, ...] = Field(
        default=("eMail",),
        description="Electronic reply channels the office uses for this offer, preferred first "
        "(FIT-Connect names: eMail, deMail, fink, elster).",
    )
    allow_anonymous: bool = False
    notify_applicant: bool = Field(
        default=False, description="E-mail the applicant when the office reports a status."
    )
    form_settings: dict[str, Any] = Field(
        default_factory=dict, description="Settings of the form model (facilities, halls ...)."
    )

    @model_validator(mode="after")
    def _channel_rules(self) -> Self:
        if self.channel in (Channel.pdf, Channel.hybrid) and self.pdf_form_url is None:
            raise ValueError(f"channel {self.channel} needs pdf_form_url")
        if self.channel in (Channel.online, Channel.hybrid):
            if not self.form_model:
                raise ValueError(f"channel {self.channel} needs form_model")
            if not self.routes:
                raise ValueError(f"channel {self.channel} needs at least one route")
        if len(set(self.routes)) != len(self.routes):
            raise ValueError("routes must not repeat")
        return self

    @property
    def accepts_online(self) -> bool:
        """Whether the API accepts submissions for this offer."""
        return self.channel != Channel.pdf

    def is_new(self, today: date, window_days: int) -> bool:
        """Whether the offer counts as new on ``today``."""
        return self.new_since is not None and today - self.new_since <= timedelta(window_days)


class Municipality(_Strict):
    """The municipality whose catalogue this is."""

    name: str
    ags: str = Field(pattern=r"^\d{8}$")
    ars: str | None = Field(default=None, pattern=r"^\d{12}$")


class Catalog(_Strict):
    """A validated catalogue; offer ids are unique."""

    municipality: Municipality
    offers: tuple[Offer, ...]
    _form_settings: dict[str, BaseModel | None] = PrivateAttr(default_factory=dict)

    def form_settings(self, offer_id: str) -> BaseModel | None:
        """The offer's validated form settings (set by the loader)."""
        return self._form_settings.get(offer_id)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for offer in self.offers:
            if offer.id in seen:
                raise ValueError(f"duplicate offer id {offer.id!r}")
            seen.add(offer.id)
        return self

    def get(self, offer_id: str) -> Offer | None:
        """Offer by id."""
        return next((o for o in self.offers if o.id == offer_id), None)
