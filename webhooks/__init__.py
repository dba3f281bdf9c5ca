"""Outgoing webhooks: signed notices of request events to the URLs a tenant registers."""
