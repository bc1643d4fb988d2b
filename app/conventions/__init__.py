"""Conventions: the signed commitments of both sides, generated from a fund's versioned template."""
