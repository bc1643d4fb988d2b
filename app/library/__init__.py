"""The peer library ("villes pairs"): evaluated initiatives shared, without personal data, with the
other towns of the deployment."""
