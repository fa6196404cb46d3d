"""Webhooks the houses send us, verified before they change anything."""
