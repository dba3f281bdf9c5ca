"""
A tenant's brand colour: whether white text stays readable on it (WCAG 2.x
contrast), and the shades its stylesheet needs. Pure functions on
``#rrggbb`` strings; the write that applies them is ``organisation.services``.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# WCAG 2.x level AA for normal text: buttons, the header and links carry text.
MIN_CONTRAST = 4.5
WHITE = "#ffffff"
# The model's default: what a tenant without custom branding looks like.
DEFAULT_PRIMARY_COLOR = "#1f6feb"


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    if len(colour) != 6:
        raise ValueError(f"Not a #rrggbb colour: {colour!r}")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def rgb_to_hex(rgb) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance, 0 (black) to 1 (white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in hex_to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21, whichever order they come in."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def validate_primary_color(colour: str) -> None:
    """
    Refuse a primary colour on which white text (the header, primary
    buttons) would be hard to read; the same ratio holds for links in that
    colour on a white page.
    """
    try:
        ratio = contrast_ratio(colour, WHITE)
    except ValueError:
        raise ValidationError(_("Enter a colour as #RRGGBB."), code="invalid_colour") from None
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            _(
                "%(colour)s is too light: white text on it has a contrast of %(ratio).1f:1, "
                "and at least %(minimum).1f:1 is needed to be readable (WCAG AA). "
                "Choose a darker shade."
            )
            % {"colour": colour, "ratio": ratio, "minimum": MIN_CONTRAST},
            code="low_contrast",
        )


def shade(colour: str, amount: float) -> str:
    """``colour`` mixed with black by ``amount`` (0 to 1): hover and active states."""
    return rgb_to_hex(c * (1 - amount) for c in hex_to_rgb(colour))


def branding_version(tenant) -> str:
    """Changes whenever the colour or logo does: cache-busts the stylesheet's URL."""
    seed = f"{tenant.primary_color}|{tenant.logo.name if tenant.logo else ''}"
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


def has_custom_branding(tenant) -> bool:
    return bool(tenant.logo) or tenant.primary_color.lower() != DEFAULT_PRIMARY_COLOR
