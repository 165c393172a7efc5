"""A release as the central server describes it: the latest system update
(`GET /api/v1/updates/latest`), an e-book batch (each of `GET /api/v1/batches`, and `GET
/api/v1/batches/latest`). Which file, how big, its sha256, where to fetch it. 204 (and 404,
which another server may answer) means nothing is published. Pure reading of the server's
JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kiosk.errors import CentralRequestError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
NOTHING_PUBLISHED = frozenset({204, 404})


class ReleaseKind(StrEnum):
    SYSTEM = "system"        # a RAUC bundle for the root slots (issue 14)
    CATALOGUE = "catalogue"  # an e-book batch (issue 17, kiosk.content_pull)


LATEST = {ReleaseKind.SYSTEM: "/api/v1/updates/latest",
          ReleaseKind.CATALOGUE: "/api/v1/batches/latest"}
VERSION_KEY = {ReleaseKind.SYSTEM: "version", ReleaseKind.CATALOGUE: "batch"}
SUFFIX = {ReleaseKind.SYSTEM: ".raucb", ReleaseKind.CATALOGUE: ".tar"}


@dataclass(frozen=True)
class Release:
    kind: ReleaseKind
    version: str
    size: int
    sha256: str
    url: str                  # a path on the central server, or an address on it
    published_at: str | None = None
    id: int | None = None     # the server's own number, when it gives one

    @property
    def file_name(self) -> str:
        """The name it is kept under on the kiosk: from its content, never from the server's
        words."""
        return f"{self.kind}-{self.sha256[:16]}{SUFFIX[self.kind]}"


def from_answer(answer: dict | None, kind: ReleaseKind) -> Release | None:
    """The release in the server's answer; None when nothing is published (no answer body, or
    no version in it). Raises CentralRequestError when the answer is not what the API promises."""
    if answer is None or answer.get(VERSION_KEY[kind]) is None:
        return None
    try:
        release = Release(kind, str(answer[VERSION_KEY[kind]]), int(answer["size"]),
                          str(answer["sha256"]).lower(), str(answer["url"]),
                          _text(answer.get("published_at")),
                          int(answer["id"]) if answer.get("id") is not None else None)
    except (KeyError, TypeError, ValueError) as e:
        raise CentralRequestError(f"the central server described the {kind} update in a way "
                                  f"this kiosk cannot read ({type(e).__name__}: {e}): "
                                  f"{str(answer)[:300]}") from None
    if not SHA256.match(release.sha256) or release.size <= 0:
        raise CentralRequestError(f"the central server gave {kind} {release.version} a bad "
                                  f"sha256 or size ({release.sha256!r}, {release.size})")
    if not release.url:
        raise CentralRequestError(f"the central server gave no address for {kind} "
                                  f"{release.version}")
    return release


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
