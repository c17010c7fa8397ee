"""ccmdesk: Medicare Chronic Care Management for small practices."""

__version__ = "0.1.0"
