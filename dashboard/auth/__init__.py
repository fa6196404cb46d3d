"""Logging in and out of the dashboard."""
