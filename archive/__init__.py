"""Crossings: a documentary archive of footage and stills, places, crossings and journeys."""

__version__ = "0.1.0"
