"""The `container` fixture lives in tests/conftest.py (shared by every test folder)."""
