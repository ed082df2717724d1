"""Moved to triage/repository.py; kept while conversations/service.py (being split) imports it."""

from relaydesk.triage.repository import FIELDS, correction_examples, record_correction

__all__ = ["FIELDS", "correction_examples", "record_correction"]
