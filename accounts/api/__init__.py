"""The accounts REST endpoints: me, users, roles and API keys."""
