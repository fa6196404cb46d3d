"""Fulfillment houses in the dashboard: plugin tiles, house accounts, SKU mappings and ship
profiles."""
