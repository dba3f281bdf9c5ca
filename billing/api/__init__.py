"""Billing's REST pieces: the plan gate, the per-plan throttle and a tenant's own plan endpoint."""
