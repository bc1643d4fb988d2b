"""Uploaded files: images re-encoded without metadata, stored outside the database, served with checks."""
