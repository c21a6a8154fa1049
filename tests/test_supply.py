"""Partner supply over real HTTP on 127.0.0.1: signed pushes through the engine to a sandbox
partner, pull feeds from the HTTP service, corrections, kill notices, embargoes and the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import feedparser
import httpx
import jsonschema
import pytest
from sqlmodel import select

from publisher.engine import retraction
from publisher.engine.clock import FixedClock
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Revision
from publisher.supply import service, signing
from publisher.supply.ninjs import NINJS_SCHEMA, Packager, Version, dumps, load_sources
from publisher.supply.report import ALL, supply_report
from publisher.supply.sandbox import SandboxPartner
from publisher.timeutil import utc_now
from publisher.web.testing import serving
from tests.factory import base_meta, write_article
from tests.review_helpers import seed_users
from tests.supply_support import (
    PULL,
    PUSH,
    SECRET,
    SECRET_ENV,
    T0,
    aim_partners,
    approve,
    deliveries,
    holdings,
    run_engine,
)


@pytest.fixture
def partner() -> Iterator[SandboxPartner]:
    with SandboxPartner(SECRET) as sandbox:
        yield sandbox


@pytest.fixture
def sroom(
    newsroom_dir: Path, db_url: str, partner: SandboxPartner, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Newsroom]:
    aim_partners(newsroom_dir, partner.url, timeout=0.5)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
    room = Newsroom(newsroom_dir)
    assert ingest(room).ok
    seed_users(room)
    yield room
    room.close()


def supply_now(room: Newsroom, slug: str, clock: FixedClock, names: list[str] | None = None) -> None:
    plan = service.supply_article(room, slug, "zhouwb", names=names, at=clock.now(), now=clock.now())
    assert plan.scheduled, plan.skipped


def test_signature_verified_tampered_body_and_replay_rejected(partner: SandboxPartner) -> None:
    body = dumps({"uri": "x", "version": "1", "pubstatus": "usable", "headline": "标题"})
    headers = {"Idempotency-Key": "k-1", "Content-Type": "application/json", **signing.sign(SECRET, body)}
    with httpx.Client() as client:
        tampered = client.post(
            partner.url, content=body.replace("标题".encode(), "改过".encode()), headers=headers
        )
        assert tampered.status_code == 401 and "signature" in tampered.json()["reason"]
        wrong_key = {**headers, **signing.sign("another secret", body)}
        assert client.post(partner.url, content=body, headers=wrong_key).status_code == 401
        stale = {**headers, **signing.sign(SECRET, body, now=0)}
        assert "replay window" in client.post(partner.url, content=body, headers=stale).json()["reason"]
        ok = client.post(partner.url, content=body, headers=headers)
        assert ok.status_code == 200 and ok.json()["id"] == "sbx-000001"
        replay = client.post(partner.url, content=body, headers=headers)  # the same bytes again
        assert replay.status_code == 401 and "replayed" in replay.json()["reason"]
    assert len(partner.received) == 1


def test_engine_push_is_signed_ninjs_with_the_partners_id_as_receipt(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    approve(sroom, "article-1")
    clock = FixedClock(T0)
    supply_now(sroom, "article-1", clock, [PUSH])
    assert run_engine(sroom, clock) == 1
    [d] = deliveries(sroom, PUSH)
    assert d.status == "done" and json.loads(d.receipt_json or "{}")["remote_id"] == "sbx-000001"
    [item] = partner.received.values()
    assert item.key == d.idempotency_key and partner.rejected == []
    p = item.package
    assert p["pubstatus"] == "usable" and p["version"] == "1" and p["type"] == "text"
    assert p["uri"].endswith("/articles/article-1.html") and p["altids"]["revision"] == d.revision_id
    assert "<p>" in p["body_html"] and "embargoed" not in p and "ednote" not in p
    cover = p["associations"]["featureimage"]["renditions"]
    assert next(iter(cover.values()))["href"].startswith("https://www.jianglan-rd.example.gov.cn/media/")
    [held] = holdings(sroom, PUSH)
    assert held.remote_id == "sbx-000001" and held.version == 1


def test_a_duplicate_push_is_not_double_counted(sroom: Newsroom, partner: SandboxPartner) -> None:
    approve(sroom, "article-1")
    clock = FixedClock(T0)
    # The partner takes it but the answer is lost (a reply slower than our 0.5 s timeout) ...
    partner.fail("slow:1")
    supply_now(sroom, "article-1", clock, [PUSH])
    run_engine(sroom, clock)
    [d] = deliveries(sroom, PUSH)
    assert d.status == "scheduled" and "timeout" in (d.last_error or "")
    clock.moment = d.next_attempt_at
    run_engine(sroom, clock)  # ... so the engine sends again, with the same Idempotency-Key
    [d] = deliveries(sroom, PUSH)
    assert d.status == "done" and json.loads(d.receipt_json or "{}")["remote_id"] == "sbx-000001"
    assert len(partner.received) == 1 and partner.duplicates == 1
    # Supplying the same revision again (another release) sends nothing and counts nothing.
    clock.advance(timedelta(hours=1))
    supply_now(sroom, "article-1", clock, [PUSH])
    run_engine(sroom, clock)
    again = deliveries(sroom, PUSH)[1]
    assert again.status == "done" and json.loads(again.receipt_json or "{}")["detail"]["already_supplied"]
    assert len(partner.received) == 1 and partner.posts == 2
    with read_session(sroom.engine) as session:
        report = supply_report(session, sroom, "2026-12")
    assert report.rows[-1].supplied == 1


def test_503_then_success(sroom: Newsroom, partner: SandboxPartner) -> None:
    approve(sroom, "article-1")
    clock = FixedClock(T0)
    partner.fail("503")
    supply_now(sroom, "article-1", clock, [PUSH])
    run_engine(sroom, clock)
    [d] = deliveries(sroom, PUSH)
    assert d.status == "scheduled" and "HTTP 503" in (d.last_error or "") and d.next_attempt_at > T0
    clock.moment = d.next_attempt_at
    assert run_engine(sroom, clock) == 1
    [d] = deliveries(sroom, PUSH)
    assert d.status == "done" and d.attempts == 2 and len(partner.received) == 1


def test_429_honours_retry_after(sroom: Newsroom, partner: SandboxPartner) -> None:
    approve(sroom, "article-1")
    clock = FixedClock(T0)
    partner.fail("429:120")
    supply_now(sroom, "article-1", clock, [PUSH])
    run_engine(sroom, clock)
    [d] = deliveries(sroom, PUSH)
    assert d.status == "scheduled" and d.next_attempt_at == T0 + timedelta(seconds=120)
    clock.moment = T0 + timedelta(seconds=119)
    assert run_engine(sroom, clock) == 0 and partner.posts == 1  # not a moment early
    clock.moment = d.next_attempt_at
    assert run_engine(sroom, clock) == 1 and len(partner.received) == 1


def test_400_fails_with_the_partners_reason_and_no_retry(sroom: Newsroom, partner: SandboxPartner) -> None:
    approve(sroom, "article-1")
    clock = FixedClock(T0)
    partner.fail("400:标题超过本报限制")
    supply_now(sroom, "article-1", clock, [PUSH])
    run_engine(sroom, clock)
    [d] = deliveries(sroom, PUSH)
    assert d.status == "failed" and d.attempts == 1 and "标题超过本报限制" in (d.last_error or "")
    clock.advance(timedelta(days=1))
    run_engine(sroom, clock)
    assert partner.posts == 1 and holdings(sroom, PUSH) == []


def test_pull_feed_tokens_and_conditional_get(sroom: Newsroom) -> None:
    approve(sroom, "article-1")
    clock = FixedClock(T0)
    supply_now(sroom, "article-1", clock, [PULL])
    assert run_engine(sroom, clock) == 1
    token = service.issue_token(sroom, PULL, "admin").token
    auth = {"Authorization": f"Bearer {token}"}
    with serving(sroom) as base, httpx.Client(base_url=base) as client:
        assert client.get(f"/partners/{PULL}/feed.ninjs").status_code == 401
        wrong = client.get(f"/partners/{PULL}/feed.ninjs", headers={"Authorization": "Bearer pt_wrong"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
        first = client.get(f"/partners/{PULL}/feed.ninjs", headers=auth)
        assert first.status_code == 200
        [item] = first.json()["items"]
        assert item["pubstatus"] == "usable" and item["versioncreated"] and "body_html" not in item
        assert item["description_text"] == "一句话导语。"  # this partner takes summaries only
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert (
            client.get(f"/partners/{PULL}/feed.ninjs", headers={**auth, "If-None-Match": etag}).status_code
            == 304
        )
        unchanged = client.get(
            f"/partners/{PULL}/feed.ninjs", headers={**auth, "If-Modified-Since": modified}
        )
        assert unchanged.status_code == 304 and unchanged.content == b""
        for fmt in ("atom", "rss"):
            parsed = feedparser.parse(client.get(f"/partners/{PULL}/feed.{fmt}", headers=auth).content)
            assert not parsed.bozo and [e.title for e in parsed.entries] == ["测试稿件第1篇"]
        feed = client.get(f"/partners/{PULL}/feed.json", params={"token": token}).json()
        assert feed["version"].endswith("1.1") and feed["items"][0]["_ninjs"]["version"] == "1"
        # A new supply changes the feed: the old validator no longer matches.
        approve(sroom, "article-2")
        supply_now(sroom, "article-2", clock, [PULL])
        run_engine(sroom, clock)
        changed = client.get(f"/partners/{PULL}/feed.ninjs", headers={**auth, "If-None-Match": etag})
        assert changed.status_code == 200 and len(changed.json()["items"]) == 2
        assert client.get(f"/partners/{PUSH}/feed.ninjs", headers=auth).status_code == 404  # push-only
        assert service.revoke_tokens(sroom, PULL, "admin") == 1
        assert client.get(f"/partners/{PULL}/feed.ninjs", headers=auth).status_code == 401


def test_a_correction_and_a_kill_notice_reach_push_and_pull_partners(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    approve(sroom, "article-1")
    # Real time: the approval queues the correction at the moment it happens.
    clock = FixedClock(utc_now())
    supply_now(sroom, "article-1", clock)  # every partner that takes it: both
    assert run_engine(sroom, clock) == 2
    token = service.issue_token(sroom, PULL, "admin").token
    auth = {"Authorization": f"Bearer {token}"}
    # A correction: the file changes, the new revision passes review, and the approval itself
    # queues an update for every partner that had the piece.
    write_article(sroom.content_dir, "article-1.md", base_meta("article-1", title="测试稿件第1篇（更正）"))
    ingest(sroom)
    approve(sroom, "article-1")
    clock.advance(timedelta(minutes=5))
    assert run_engine(sroom, clock) == 2
    uri = next(iter(partner.received.values())).package["uri"]
    v1, v2 = partner.by_uri(uri)
    assert (v1["version"], v2["version"]) == ("1", "2") and v2["headline"] == "测试稿件第1篇（更正）"
    assert v2["ednote"].startswith("更正") and v2["pubstatus"] == "usable"
    with serving(sroom) as base, httpx.Client(base_url=base) as client:
        [item] = client.get(f"/partners/{PULL}/feed.ninjs", headers=auth).json()["items"]
        assert item["version"] == "2" and item["ednote"].startswith("更正")
        # The kill: retracted everywhere.
        report = retraction.retract(sroom, "article-1", "数据有误，全文撤回", "zhouwb", now=clock.now())
        held = {c.channel for c in report.channels}
        assert {PULL, PUSH, "website"} <= held and not report.complete
        clock.advance(timedelta(minutes=1))
        assert run_engine(sroom, clock) == len(held)
        assert all(c.state == "done" for c in retraction.progress(sroom, "article-1"))
        kill = partner.by_uri(uri)[-1]
        assert kill["pubstatus"] == "canceled" and kill["version"] == "3" and "数据有误" in kill["ednote"]
        assert "body_html" not in kill and kill["headline"].startswith("【撤稿】")
        [item] = client.get(f"/partners/{PULL}/feed.ninjs", headers=auth).json()["items"]
        assert item["pubstatus"] == "canceled" and "body_html" not in item
        atom = ET.fromstring(client.get(f"/partners/{PULL}/feed.atom", headers=auth).content)
        tomb = atom.find("{http://purl.org/atompub/tombstones/1.0}deleted-entry")
        assert tomb is not None and tomb.get("ref") == uri
        assert atom.find("{http://www.w3.org/2005/Atom}entry") is None
    # Retracted means gone: a new release of it is held by the gate on every channel.
    supply_now(sroom, "article-1", clock, [PUSH])
    clock.advance(timedelta(minutes=1))
    run_engine(sroom, clock)
    assert deliveries(sroom, PUSH)[-1].status == "held"
    assert not (sroom.root / "public" / "articles" / "article-1.html").exists()


def test_an_embargoed_item_reaches_only_trusted_partners_early(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    embargo = T0 + timedelta(hours=3)
    write_article(sroom.content_dir, "article-3.md", base_meta("article-3", embargo=embargo.isoformat()))
    ingest(sroom)
    approve(sroom, "article-3")
    clock = FixedClock(T0)
    supply_now(sroom, "article-3", clock)
    assert run_engine(sroom, clock) == 1  # the trusted push partner only
    [item] = partner.received.values()
    assert item.package["embargoed"] == "2026-12-04T04:00:00Z"
    pull = deliveries(sroom, PULL)[0]
    assert pull.status == "scheduled" and pull.next_attempt_at == embargo and holdings(sroom, PULL) == []
    clock.moment = embargo
    assert run_engine(sroom, clock) == 1
    [held] = holdings(sroom, PULL)
    assert held.embargoed is None and held.version == 1


def test_adoption_callback_and_the_report_match_the_deliveries(
    sroom: Newsroom, partner: SandboxPartner
) -> None:
    for slug in ("article-1", "article-2", "article-3"):
        approve(sroom, slug)
    clock = FixedClock(T0)
    for slug in ("article-1", "article-2", "article-3"):
        supply_now(sroom, slug, clock)
    assert run_engine(sroom, clock) == 6
    token = service.issue_token(sroom, PULL, "admin").token
    with serving(sroom) as base, httpx.Client(base_url=base) as client:
        body = {
            "article": "article-1",
            "url": "https://media.example/a1",
            "adopted_at": "2026-12-04T15:00:00+08:00",
        }
        assert client.post(f"/partners/{PULL}/adoptions", json=body).status_code == 401
        ok = client.post(
            f"/partners/{PULL}/adoptions", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 201 and ok.json()["recorded"] is True
        again = client.post(
            f"/partners/{PULL}/adoptions", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 200 and again.json()["recorded"] is False
        # A push partner signs its callback with the shared secret, like our pushes.
        uri = next(iter(partner.received.values())).package["uri"]
        raw = json.dumps(
            {"article": uri, "url": "https://daily.example/p/1", "adopted_at": "2026-12-05T09:00:00+08:00"}
        ).encode()
        signed = {**signing.sign(SECRET, raw), "Content-Type": "application/json"}
        assert client.post(f"/partners/{PUSH}/adoptions", content=raw, headers=signed).status_code == 201
        assert (
            client.post(f"/partners/{PUSH}/adoptions", content=raw, headers=signed).status_code == 401
        )  # replay
        never = {"article": "article-9", "url": "https://x.example/"}
        assert (
            client.post(
                f"/partners/{PULL}/adoptions", json=never, headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 404
        )
        assert client.get("/openapi.json").json()["paths"].keys() >= {"/partners/{partner}/adoptions"}
    service.record_adoption(
        sroom,
        PULL,
        "article-2",
        "https://media.example/a2",
        "zhouwb",
        "staff",
        adopted_at=T0 + timedelta(hours=2),
    )
    with read_session(sroom.engine) as session:
        report = supply_report(session, sroom, "2026-12")
        november = supply_report(session, sroom, "2026-11")
    done = [d for d in deliveries(sroom) if d.status == "done"]
    total = report.rows[-1]
    assert total.supplied == len(done) == 6 and total.adopted == 3
    by_partner = {r.partner: r for r in report.rows if r.column == ALL and r.partner != ALL}
    assert by_partner[PULL].supplied == 3 and by_partner[PULL].adopted == 2
    assert by_partner[PULL].median_delay_hours == pytest.approx(4.0)  # 6 h and 2 h after supply
    assert by_partner[PUSH].supplied == 3 and by_partner[PUSH].rate == pytest.approx(1 / 3)
    assert by_partner[PUSH].median_delay_hours == pytest.approx(24.0)
    detail = [r for r in report.rows if r.column != ALL]
    assert {(r.column, r.department) for r in detail} == {("良法善治护航发展", "研究室")}
    assert november.rows[-1].supplied == 0
    assert report.to_csv().splitlines()[0].startswith("month,partner,outlet,column,department,supplied")


def ninjs_validator() -> jsonschema.protocols.Validator:
    """IPTC's ninjs 1.3 schema, checked with the JSON Schema draft it declares (draft 4), formats too.

    tests/data/ninjs-schema_1.3.json is specification/ninjs-schema_1.3.json of
    https://github.com/iptc/newsinjson (commit 3ace39707a725d6674279c3151e2f5323dc81074), unchanged.
    """
    schema = json.loads((Path(__file__).parent / "data" / "ninjs-schema_1.3.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    assert cls is jsonschema.Draft4Validator
    cls.check_schema(schema)
    # Without the format libraries a "uri" or "date-time" would pass unchecked.
    assert {"uri", "date-time"} <= set(cls.FORMAT_CHECKER.checkers)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_every_partner_package_is_valid_ninjs_1_3(sroom: Newsroom, partner: SandboxPartner) -> None:
    validator = ninjs_validator()
    embargo = T0 + timedelta(hours=3)
    write_article(sroom.content_dir, "article-3.md", base_meta("article-3", embargo=embargo.isoformat()))
    ingest(sroom)
    for slug in ("article-1", "article-3"):
        approve(sroom, slug)
    clock = FixedClock(utc_now())
    supply_now(sroom, "article-1", clock)
    supply_now(sroom, "article-3", clock, [PUSH])
    assert run_engine(sroom, clock) == 3
    write_article(sroom.content_dir, "article-1.md", base_meta("article-1", title="测试稿件第1篇（更正）"))
    ingest(sroom)
    approve(sroom, "article-1")  # the approval queues version 2, with an ednote, for both partners
    clock.advance(timedelta(minutes=5))
    assert run_engine(sroom, clock) == 2
    token = service.issue_token(sroom, PULL, "admin").token
    with serving(sroom) as base, httpx.Client(base_url=base) as client:
        pulled_v2 = client.get(f"/partners/{PULL}/feed.ninjs", params={"token": token}).json()["items"]
        report = retraction.retract(sroom, "article-1", "数据有误，全文撤回", "zhouwb", now=clock.now())
        clock.advance(timedelta(minutes=1))
        assert run_engine(sroom, clock) == len(report.channels)
        pulled_kill = client.get(f"/partners/{PULL}/feed.ninjs", params={"token": token}).json()["items"]
    pushed = [r.package for r in partner.received.values()]
    # A partner that takes pictures inline gets them as data: URIs, still inside the schema.
    channel = sroom.channels.channels[PUSH]
    attached = replace(channel, settings=channel.settings.model_copy(update={"images": "attached"}))
    with read_session(sroom.engine) as session:
        # Pushes to one partner go side by side, so arrival order says nothing: take one with a cover.
        with_cover = next(p for p in pushed if "associations" in p)
        revision = session.exec(select(Revision).where(Revision.id == with_cover["altids"]["revision"])).one()
        sources = load_sources(session, revision.id)
    inline = Packager(sroom, attached).package(revision, sources, Version(1, "usable", clock.now()))
    cover = next(iter(inline["associations"]["featureimage"]["renditions"].values()))
    assert cover["href"].startswith("data:image/")

    packages = [*pushed, *pulled_v2, *pulled_kill, inline]
    for package in packages:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(package)
        ]
        assert errors == [], (package["uri"], package["version"], errors)
    kinds = {
        "usable": any(p["pubstatus"] == "usable" and p["version"] == "1" for p in pushed),
        "correction": any(p["version"] == "2" and p.get("ednote", "").startswith("更正") for p in pushed),
        "kill": any(p["pubstatus"] == "canceled" for p in pushed + pulled_kill),
        "embargoed": any("embargoed" in p for p in pushed),
        "images": any("associations" in p for p in pushed + pulled_v2),
        "summary only": any("body_html" not in p and "description_text" in p for p in pulled_v2),
    }
    assert all(kinds.values()), kinds
    # What the sandbox partner reads back still names each item and its version.
    assert [i["version"] for i in partner.summary()["items"]] == [p["version"] for p in pushed]
    assert all(
        p["$standard"] == {"name": "ninjs", "version": "1.3", "schema": NINJS_SCHEMA} for p in packages
    )
