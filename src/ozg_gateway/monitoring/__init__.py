"""Connector health: periodic checks, state shared by all processes, logged on change."""
