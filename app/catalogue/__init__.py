"""The public catalogue of initiatives, its full-text search and its map."""
