"""The kiosk searches without a pinyin dictionary: whatever is typed, `search` and
`search_count` never import pypinyin (54 MB), the dictionary reader or OpenCC; the catalogue
file holds everything they need. Run in a fresh interpreter, as the kiosk is."""

import subprocess
import sys
import textwrap
from pathlib import Path

from content.catalogue import write_catalogue
from tests.search_cases import TODAY, titles

QUERIES = ["红", "红楼", "红楼梦", "honglou", "hlm", "红l", "红lm", "養生l", "978-7-02",
           "曹雪芹", "caoxueqin", "h", "9", "python", "zzzz", "龍門", "·", "楼m"]


def test_no_kind_of_query_loads_a_dictionary(tmp_path):
    write_catalogue(tmp_path / "catalogue.sqlite3", titles(300))
    script = textwrap.dedent(f"""
        import sys
        from content.catalogue import Catalogue
        catalogue = Catalogue.open({str(tmp_path)!r})
        found = 0
        for query in {QUERIES!r}:
            found += len(catalogue.search(query, {TODAY!r}))
            catalogue.search_count(query, {TODAY!r})
        assert found, "nothing found: the queries did not reach the tables"
        loaded = [m for m in ("pypinyin", "content.pinyin", "opencc", "content.catalogue_write")
                  if m in sys.modules]
        assert not loaded, loaded
    """)
    subprocess.run([sys.executable, "-c", script], check=True,
                   cwd=Path(__file__).resolve().parent.parent)
