"""The app for ``serve --workers N``: each uvicorn worker process builds its own context.

uvicorn starts several processes only from an import string; the CLI passes the config file
and options through the environment before it starts them.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from ozg_gateway.api.app import create_app
from ozg_gateway.config import load_settings
from ozg_gateway.context import build_context
from ozg_gateway.logging import configure_logging

WITH_WORKER_ENV = "OZG_GATEWAY_SERVE_WITH_WORKER"


def app_from_environment() -> FastAPI:
    """The API of one worker process, configured by ``OZG_GATEWAY_CONFIG``."""
    settings = load_settings()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    ctx = build_context(settings)
    return create_app(ctx, with_worker=os.environ.get(WITH_WORKER_ENV) == "1")
