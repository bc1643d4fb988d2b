"""Historical import: a town's past fifty-fifty initiatives, read from a CSV file and marked historical."""
