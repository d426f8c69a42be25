"""Service catalogue: offers, channels, fees, eID level, delivery routes."""

from ozg_gateway.catalog.loader import CatalogError, load_catalog
from ozg_gateway.catalog.models import Catalog, Channel, Offer

__all__ = ["Catalog", "CatalogError", "Channel", "Offer", "load_catalog"]
