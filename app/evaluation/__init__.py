"""The close-out of an initiative: evaluation, volunteers' survey, fines traces, upkeep checks."""
