from django import template

from accounts.lockout import user_is_locked_out

register = template.Library()


@register.filter
def locked_out(user) -> bool:
    """``{% if edited_user|locked_out %}``: whether the account is locked out now."""
    return user_is_locked_out(user)
