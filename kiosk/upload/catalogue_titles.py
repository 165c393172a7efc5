"""The titles of the kiosk's current e-book catalogue, for the server's per-title and
per-category figures and its report of licences ending soon: sent once per catalogue version.
Run by the uploader process."""

from __future__ import annotations

from pathlib import Path

from content.catalogue import Catalogue
from content.store import CatalogueStore


def current_version(catalogue_dir: Path) -> Path | None:
    return CatalogueStore(catalogue_dir).current_dir()


def catalogue_body(kiosk_id: str, version_dir: Path) -> dict:
    """The JSON body of POST /api/v1/catalogue: every title of the version, licensed today or
    not, since counts made while it was licensed still need its name."""
    catalogue = Catalogue.open(version_dir)
    try:
        titles = [{"id": t.id, "title": t.title, "author": t.author, "category": t.category,
                   "valid_from": t.valid_from or None, "valid_until": t.valid_until or None}
                  for t in catalogue.all_titles()]
    finally:
        catalogue.close()
    return {"kiosk_id": kiosk_id, "version": version_dir.name, "titles": titles}
