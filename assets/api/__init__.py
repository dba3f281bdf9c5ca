"""The assets REST endpoints."""
