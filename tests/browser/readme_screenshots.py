"""
Copy the README's screenshots from the last browser test run into
docs/screenshots/:

    .venv/bin/python -m pytest tests/browser/test_browser_journeys.py -k first_day
    .venv/bin/python tests/browser/readme_screenshots.py
"""

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE / "screenshots"
DOCS = HERE.parent.parent / "docs" / "screenshots"

# README image: (viewport folder, the audit() name in the journey).
README = {
    "dashboard-desktop.png": ("desktop", "dashboard"),
    "request-phone.png": ("phone", "request-resolved"),
}


def main():
    DOCS.mkdir(parents=True, exist_ok=True)
    missing = []
    for target, (viewport, name) in README.items():
        found = sorted(
            (SCREENSHOTS / viewport).glob(f"test_a_new_organisations_first_day-*-{name}.png")
        )
        if not found:
            missing.append(f"{viewport}/{name}")
            continue
        shutil.copyfile(found[-1], DOCS / target)
        print(f"{found[-1].relative_to(HERE.parent.parent)} -> docs/screenshots/{target}")
    if missing:
        sys.exit(f"No screenshot for {', '.join(missing)}: run the first-day journey first.")


if __name__ == "__main__":
    main()
