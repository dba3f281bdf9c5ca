"""The requests_app REST endpoints."""
