"""The base the three deployables share: the kiosk (kiosk/, drivers/), the e-book content tools
(content/) and the central server (central/). It holds the project's version, its exception root,
logging with masked card numbers, the gettext translator, TOML option checking, `fsync_dir`, the
CJK font lookup, version ordering and the e-book categories. It imports none of the three
(tests/test_import_layers.py keeps that), so each of them can ship with it alone.
"""

# The distribution's one version (pyproject.toml reads it from here): kiosk, content and central
# are released together.
__version__ = "0.1.0"
