"""QR codes for asset labels."""

import io

import segno

# Medium error correction survives a scuffed or partly covered sticker and
# keeps the symbol small enough for a 2 cm label.
ERROR_CORRECTION = "m"


def qr_make(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_CORRECTION, micro=False)


def qr_svg(url: str, *, scale: int = 4, border: int = 4) -> bytes:
    buffer = io.BytesIO()
    qr_make(url).save(buffer, kind="svg", scale=scale, border=border, title=url)
    return buffer.getvalue()


def qr_png(url: str, *, scale: int = 8, border: int = 4) -> bytes:
    buffer = io.BytesIO()
    qr_make(url).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_svg_inline(url: str, *, title: str = "", scale: int = 3, border: int = 2) -> str:
    """
    The SVG element alone (no XML declaration), to put in a page as it is:
    the label sheet prints dozens without a request each. Sized by CSS.
    """
    return qr_make(url).svg_inline(
        scale=scale, border=border, omitsize=True, title=title or url, svgclass="qr-code"
    )
