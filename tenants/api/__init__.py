"""The tenants app's REST endpoints: public signup, a tenant's plan and usage, the platform API."""
