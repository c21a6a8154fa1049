"""Every evasion class of secrecy markings, against the checks at submission and against what
every channel shows: the website's pages and feeds as built, and the gate that the engine asks
before it renders for WeChat, a partner's ninjs package or a pull feed."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from publisher.engine.clock import FixedClock
from publisher.engine.release import newsroom_gate
from publisher.engine.worker import DeliveryWorker
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.review.checks import BUILTIN_MARKINGS, load_secrecy
from publisher.review.gate import Gate, publication_gate
from publisher.review.service import ReviewService
from publisher.review.workflow import ReviewRefused
from publisher.site.build import build_site
from publisher.store.tables import Article, Revision
from publisher.supply import service
from tests.adversarial.evasions import EVASIONS, PROSE, Variant
from tests.factory import base_meta, write_article
from tests.review_helpers import approve_dodging_checks, seed_users, sign_through
from tests.site_support import NOW, public, website
from tests.supply_support import PULL, T0, holdings, run_engine

_TAGS = re.compile(r"<[^>]*>")
_STAR_LIKE = "[*★☆⭐✦✭✮✯✰✱✲✳✶⁎∗]"


@pytest.fixture
def svc(room: Newsroom) -> Iterator[ReviewService]:
    seed_users(room)
    yield ReviewService(room)


def _revision(room: Newsroom, slug: str) -> Revision:
    with Session(room.engine) as s:
        article = s.exec(select(Article).where(Article.slug == slug)).one()
        revision = s.get(Revision, article.current_revision_id)
        assert revision is not None
        return revision


def _slip_past_review(room: Newsroom, slug: str) -> Revision:
    """Signed through every stage with the checks dodged: the gate's own re-check must still refuse."""
    approve_dodging_checks(room, slug)
    return _revision(room, slug)


def _shown_text(raw: str) -> str:
    """What a reader of an output file may see, folded here independently of the code under test:
    tags gone, references decoded (twice: a feed holds HTML escaped inside XML), compatibility
    forms folded, no invisible characters, no spaces at all, every star-like character ★."""
    text = html.unescape(_TAGS.sub(" ", html.unescape(_TAGS.sub(" ", raw))))
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and not ch.isspace())
    return re.sub(_STAR_LIKE, "★", text)


def _markings_shown(room: Newsroom, files: list[Path]) -> list[str]:
    markings = [*BUILTIN_MARKINGS.marking, *load_secrecy(room.root / "review", room.root).marking]
    shown = []
    for path in files:
        text = _shown_text(path.read_text(encoding="utf-8"))
        shown += [f"{path.name}: {m.name}" for m in markings if re.search(m.pattern, text)]
    return shown


def assert_blocked_everywhere(room: Newsroom, svc: ReviewService, variants: tuple[Variant, ...]) -> None:
    slugs = [f"evasion-{n}" for n in range(len(variants))]
    for slug, variant in zip(slugs, variants, strict=True):
        meta = base_meta(slug, **{"title": f"稿件{slug}", **variant.meta})
        write_article(room.content_dir, f"{slug}.md", meta, variant.body)
    write_article(room.content_dir, "control.md", base_meta("control", title="对照稿件一切正常"))
    report = ingest(room)
    assert report.ok, report.problems
    for slug, variant in zip(slugs, variants, strict=True):
        with pytest.raises(ReviewRefused, match="secrecy marking") as refused:
            svc.submit(slug, "wangxm")
        assert "自动检查未通过" in str(refused.value), variant.label
    marked = [_slip_past_review(room, slug) for slug in slugs]
    control = _slip_past_review(room, "control")

    gates: dict[str, Gate] = {
        "newsroom gate": newsroom_gate(room),
        "engine": DeliveryWorker(room, worker_id="adv").gate,
    }
    external = [c for c in room.channels.channels.values() if c.external]
    with Session(room.engine) as s:
        for name, gate in gates.items():
            for channel in external:
                for revision, variant in zip(marked, variants, strict=True):
                    decision = gate(s, revision, channel, NOW)
                    assert not decision.allowed, (name, channel.name, variant.label)
                    assert any("secrecy" in r for r in decision.reasons), (name, channel.name, variant.label)
            assert gate(s, control, website(room), NOW).allowed, name

    # The engine: a partner's ninjs package (and its pull feeds) is made only for what the gate lets by.
    clock = FixedClock(T0)
    for slug in [*slugs, "control"]:
        plan = service.supply_article(room, slug, "zhouwb", names=[PULL], at=clock.now(), now=clock.now())
        assert plan.scheduled, plan.skipped
    run_engine(room, clock)
    assert [h.article_id for h in holdings(room, PULL)] == [control.article_id]

    build_site(room, website(room), newsroom_gate(room), now=NOW, workers=1)
    files = [p for p in public(room).rglob("*") if p.suffix in (".html", ".xml", ".json") and p.is_file()]
    assert any("对照稿件一切正常" in p.read_text(encoding="utf-8") for p in files)  # the build did run
    assert any(p.parts[-2] == "feeds" for p in files)
    assert _markings_shown(room, files) == []


def test_a_marking_with_another_star_like_character_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["another star-like character"])


def test_a_marking_with_an_asterisk_for_its_star_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["an asterisk"])


def test_a_marking_split_by_an_ascii_space_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["an ascii space"])


def test_a_marking_split_by_an_ideographic_space_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["an ideographic space"])


def test_a_marking_split_by_a_no_break_space_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["a no-break space"])


def test_a_marking_split_by_an_invisible_format_character_is_blocked(
    room: Newsroom, svc: ReviewService
) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["an invisible format character"])


def test_a_marking_written_as_character_references_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["character references"])


def test_a_marking_split_by_markdown_emphasis_or_tags_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["markdown emphasis or tags inside the word"])


def test_a_marking_split_across_a_line_break_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["a line break"])


def test_a_marking_in_a_field_other_than_the_body_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["a field other than the body"])


def test_the_newsrooms_own_marking_in_disguise_is_blocked(room: Newsroom, svc: ReviewService) -> None:
    assert_blocked_everywhere(room, svc, EVASIONS["the newsroom's own marking in disguise"])


def test_prose_about_secrecy_still_passes_every_check(room: Newsroom, svc: ReviewService) -> None:
    body = "\n\n".join(PROSE) + "\n"
    write_article(
        room.content_dir, "law.md", base_meta("law", title="学习《中华人民共和国保守国家秘密法》"), body
    )
    assert ingest(room).ok
    assert svc.submit("law", "wangxm").status == "in_review"
    sign_through(room, svc, "law")
    with Session(room.engine) as s:
        assert newsroom_gate(room)(s, _revision(room, "law"), website(room), NOW).allowed


def test_the_gate_applies_the_newsrooms_own_list_at_every_delivery(
    room: Newsroom, svc: ReviewService
) -> None:
    secrecy = room.root / "review" / "secrecy.toml"
    kept = secrecy.read_text(encoding="utf-8")
    secrecy.write_text("", encoding="utf-8")  # the list as it was when the article was approved
    write_article(
        room.content_dir, "later.md", base_meta("later", title="稿件"), "【内部\u200b传阅】\n\n正文。\n"
    )
    assert ingest(room).ok
    svc.submit("later", "wangxm")
    sign_through(room, svc, "later")
    secrecy.write_text(kept, encoding="utf-8")  # 内部传阅 is on the newsroom's list again
    revision = _revision(room, "later")
    with Session(room.engine) as s:
        for gate in (newsroom_gate(room), DeliveryWorker(room, worker_id="list").gate):
            decision = gate(s, revision, website(room), NOW)
            assert not decision.allowed and any("secrecy" in r for r in decision.reasons)
        assert publication_gate(s, revision, website(room), NOW).allowed  # built-in marks alone: it passes
