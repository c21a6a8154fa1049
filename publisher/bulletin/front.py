"""The cover of an issue: masthead, number and date, the contents with leader dots and page
numbers, and the colophon; contents too long for the cover run on to unnumbered pages."""

from __future__ import annotations

import math
from collections.abc import Sequence

from publisher.bulletin.pages import (
    BODY,
    GREY,
    SCALE,
    SECTION,
    SMALL,
    Front,
    Geometry,
    Page,
    Run,
    SectionCopy,
    Stroke,
    Style,
    baseline,
    line_runs,
    set_text,
    width_of,
)
from publisher.imaging.fonts import Face


def set_front(
    sections: Sequence[SectionCopy], starts: dict[str, int], geometry: Geometry, front: Front
) -> list[Page]:
    g = geometry
    cover = Page()
    pages = [cover]
    # The masthead: the full title, large, in the bulletin's colour, over a thick and a thin rule.
    mast = Style(Face.SANS, 30, 30 * 1.3)
    layout = set_text(front.title, mast.face, mast.size, g.measure, mast.leading, title=True)
    y = g.top
    cover.items.extend(
        line_runs(
            layout,
            range(len(layout.lines)),
            g.left,
            y,
            mast.face,
            mast.size,
            mast.leading,
            colour=front.masthead_colour,
            centre=True,
        )
    )
    y += len(layout.lines) * mast.leading + 10
    right = g.width - g.right
    cover.items.append(Stroke(g.left, y, right, y, 2.4, front.masthead_colour))
    cover.items.append(Stroke(g.left, y + 4, right, y + 4, 0.7, front.masthead_colour))
    y += 4 + 20
    cover.items.append(Run(g.left, y, front.number, Face.SERIF, 12))
    cover.items.append(Run(right - width_of(front.date, Face.SERIF, 12), y, front.date, Face.SERIF, 12))
    y += 40
    heading = "目　录"
    cover.items.append(
        Run(g.left + (g.measure - width_of(heading, Face.SANS, 16)) / 2, y, heading, Face.SANS, 16)
    )
    y += 24
    # The colophon stands at the foot of the cover; the contents stop above it.
    small = SMALL
    colophon_top = g.foot - len(front.colophon) * small.leading - 8
    cover.items.append(Stroke(g.left, colophon_top, right, colophon_top, 0.5, GREY))
    for n, line in enumerate(front.colophon):
        cover.items.append(
            Run(
                g.left,
                colophon_top + 8 + n * small.leading + baseline(small.leading, small.size),
                line,
                small.face,
                small.size,
                GREY,
            )
        )

    limit = colophon_top - 12
    page = cover

    def room_for(height: float) -> None:
        nonlocal y, limit, page
        if y + height > limit:
            page = Page()
            pages.append(page)
            y = g.top
            limit = g.foot
            cont = "目录（续）"
            page.items.append(
                Run(g.left + (g.measure - width_of(cont, Face.SANS, 14)) / 2, y + 14, cont, Face.SANS, 14)
            )
            y += 34

    entry = BODY
    folio_room = width_of("000", entry.face, entry.size) + 6
    for section in sections:
        room_for(SECTION.leading + entry.leading)
        page.items.append(
            Run(
                g.left,
                y + baseline(SECTION.leading, 11.5),
                section.title,
                Face.SANS,
                11.5,
                front.masthead_colour,
            )
        )
        y += SECTION.leading
        for article in section.articles:
            indent = 2 * entry.size
            layout = set_text(
                article.title,
                entry.face,
                entry.size,
                g.measure - indent - folio_room,
                entry.leading,
                justify=False,
            )
            room_for(len(layout.lines) * entry.leading)
            page.items.extend(
                line_runs(
                    layout,
                    range(len(layout.lines)),
                    g.left + indent,
                    y,
                    entry.face,
                    entry.size,
                    entry.leading,
                )
            )
            last = layout.lines[-1]
            last_baseline = y + (len(layout.lines) - 1) * entry.leading + baseline(entry.leading, entry.size)
            folio = str(starts[article.slug])
            folio_x = right - width_of(folio, entry.face, entry.size)
            # Leader dots from the end of the title to the page number.
            start = g.left + indent + last.width / SCALE + 4
            dot = width_of("·", entry.face, entry.size)
            count = max(0, math.floor((folio_x - 4 - start) / dot))
            if count:
                page.items.append(
                    Run(folio_x - 4 - count * dot, last_baseline, "·" * count, entry.face, entry.size, GREY)
                )
            page.items.append(Run(folio_x, last_baseline, folio, entry.face, entry.size))
            y += len(layout.lines) * entry.leading
        y += entry.leading * 0.4
    return pages
