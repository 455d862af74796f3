"""Fixtures of the widget tests."""
