"""A release as the central server describes it (`GET /api/v1/releases/<kind>/current`): which
file, how big, its sha256, where to fetch it. Pure reading of the server's JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kiosk.errors import CentralError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# What a release's file may be fetched from: the server's own API, never another host.
FILE_PATH = re.compile(r"^/api/v1/releases/[0-9]+/file$")


class ReleaseKind(StrEnum):
    SYSTEM = "system"        # a RAUC bundle for the root slots (issue 14)
    CATALOGUE = "catalogue"  # an e-book batch (issue 17; not fetched yet)


def current_path(kind: ReleaseKind) -> str:
    return f"/api/v1/releases/{kind}/current"


@dataclass(frozen=True)
class Release:
    id: int
    kind: ReleaseKind
    version: str
    size: int
    sha256: str
    url: str            # the file's path on the central server
    published_at: str


def from_answer(answer: dict, kind: ReleaseKind) -> Release | None:
    """The release in the server's answer, or None when none is published for this kiosk.
    Raises CentralError when the answer is not what the API promises."""
    if "release" not in answer:
        raise CentralError("the central server's answer has no 'release': is it older than "
                           "this kiosk? Update the central server")
    data = answer["release"]
    if data is None:
        return None
    try:
        release = Release(int(data["id"]), ReleaseKind(data["kind"]), str(data["version"]),
                          int(data["size"]), str(data["sha256"]).lower(), str(data["url"]),
                          str(data.get("published_at") or ""))
    except (KeyError, TypeError, ValueError) as e:
        raise CentralError(f"the central server described the release in a way this kiosk "
                           f"cannot read ({type(e).__name__}: {e}): {str(data)[:300]}") from None
    if release.kind is not kind:
        raise CentralError(f"asked for a {kind} release, the central server answered a "
                           f"{release.kind} one")
    if not SHA256.match(release.sha256) or release.size <= 0:
        raise CentralError(f"the central server gave release {release.id} a bad sha256 or size "
                           f"({release.sha256!r}, {release.size})")
    if not FILE_PATH.match(release.url):
        raise CentralError(f"the central server offers release {release.id} from {release.url!r},"
                           " not from its own /api/v1/releases/<id>/file: refused")
    return release
