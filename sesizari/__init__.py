"""Sesizari: a city's incident reports, routed and resolved on a map."""

__version__ = "0.1.0"
