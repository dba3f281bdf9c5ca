"""Writes for accounts: every path that creates or changes a user comes here."""

from accounts.models import User


def user_create(*, email: str, password: str | None, full_name: str = "", **extra_fields) -> User:
    """Create a staff member in the current schema."""
    user = User(email=email, full_name=full_name, **extra_fields)
    user.full_clean(exclude=["password"])
    user.set_password(password)
    user.save()
    return user
