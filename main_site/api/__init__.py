"""The main domain's REST endpoints: public signup and the platform API."""
