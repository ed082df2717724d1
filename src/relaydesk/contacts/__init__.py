"""Contacts: one person across networks, their attributes, and merging duplicates."""
