"""
A tenant's usage over time as a small SVG line chart for its admin page:
drawn on the server, so it needs no script (and no CSP exception).
"""

from django.utils.html import format_html, format_html_join

SERIES = (
    ("users", "#1f6feb", "users"),
    ("assets", "#2da44e", "assets"),
    ("requests_this_month", "#bf8700", "requests this month"),
)
WIDTH, HEIGHT, PAD = 480, 120, 4


def usage_chart(snapshots) -> str:
    """``snapshots`` oldest first (dicts with day and the SERIES fields): an SVG, or a note."""
    snapshots = list(snapshots)
    if len(snapshots) < 2:
        return "Not enough days recorded yet."
    top = max(row[name] for row in snapshots for name, _colour, _label in SERIES) or 1
    step = (WIDTH - 2 * PAD) / (len(snapshots) - 1)

    def points(name):
        return " ".join(
            f"{PAD + i * step:.1f},{HEIGHT - PAD - row[name] * (HEIGHT - 2 * PAD) / top:.1f}"
            for i, row in enumerate(snapshots)
        )

    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}">'
        "<title>{}</title></polyline>",
        ((colour, points(name), label) for name, colour, label in SERIES),
    )
    legend = format_html_join(
        "",
        '<text x="{}" y="{}" fill="{}" font-size="11">{}</text>',
        (
            (PAD + i * 150, HEIGHT + 14, colour, label)
            for i, (_n, colour, label) in enumerate(SERIES)
        ),
    )
    return format_html(
        '<svg role="img" aria-label="Usage from {} to {}, up to {}" width="{}" height="{}" '
        'viewBox="0 0 {} {}">{}{}</svg>',
        snapshots[0]["day"], snapshots[-1]["day"], top,
        WIDTH, HEIGHT + 20, WIDTH, HEIGHT + 20, lines, legend,
    )  # fmt: skip
