"""sitemap.xml is written out directly; it must be what ElementTree makes of the same tree."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from publisher.site.site import SITEMAP_NS, sitemap_bytes, xml_bytes


def by_elementtree(base: str, entries: list[tuple[str, str | None]]) -> bytes:
    root = ET.Element("urlset", xmlns=SITEMAP_NS)
    for path, modified in entries:
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = base + "/" + path.removesuffix("index.html")
        if modified:
            ET.SubElement(url, "lastmod").text = modified
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml_bytes(root) + b"\n"


@pytest.mark.parametrize(
    ("base", "entries"),
    [
        ("https://x.example.cn", []),
        ("https://x.example.cn", [("index.html", None)]),
        (
            "https://a&b<c>.example.cn/\"q'",
            [
                ("articles/新闻-1&2<3>.html", "2026-01-01T00:00:00+08:00"),
                ("columns/x/index.html", None),
                ("columns/x/page-2.html", ""),
            ],
        ),
        ("", [("a\tb\r\nc.html", "x")]),
    ],
)
def test_sitemap_bytes_match_elementtree(base: str, entries: list[tuple[str, str | None]]) -> None:
    assert sitemap_bytes(base, entries) == by_elementtree(base, entries)
    ET.fromstring(sitemap_bytes(base, entries))
