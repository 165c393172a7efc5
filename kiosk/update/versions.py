"""Release versions and their order, for the kiosk's update modules: kept in common/versions.py,
which the central server uses too."""

from common.versions import is_older as is_older
from common.versions import parse_version as parse_version
