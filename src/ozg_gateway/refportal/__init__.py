"""Reference portal "Digitales Rathaus": a citizen portal built only on the public REST API.

It talks to the gateway over HTTP with a portal key and imports nothing of the gateway (an
import contract checks that): it is what a portal developer can copy. Forms are rendered from
each offer's ``form_schema``, errors come from the gateway's problem answers.
"""

from __future__ import annotations

from ozg_gateway.refportal.app import create_portal

__all__ = ["create_portal"]
