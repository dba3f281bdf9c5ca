"""
Two-factor authentication: TOTP apps with one-time recovery codes (django-otp).

Optional for everyone; required of platform admins (staff of the public
schema) and of a tenant's admins when the tenant requires it (a setting of
plans with ``Feature.REQUIRE_TWO_FACTOR``). The password step is the login
form as before; ``middleware.TwoFactorMiddleware`` then keeps a session that
has a device, or must have one, on these pages until it passed them.
"""
