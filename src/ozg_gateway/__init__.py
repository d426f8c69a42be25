"""ozg-gateway: the integration layer between municipal web portals and OZG back-office systems."""

__version__ = "0.1.0"
