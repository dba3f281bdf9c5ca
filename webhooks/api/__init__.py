"""The webhooks REST endpoints."""
