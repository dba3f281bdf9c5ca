"""
The staff dashboard: its figures (``selectors``), the monthly rollup the
services keep for it (``rollup``) and its page (``views``).
"""
