"""Cailloux."""
