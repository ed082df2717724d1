"""RelayDesk: a self-hosted social customer-care hub."""

__version__ = "0.1.0"
