"""One suite of behaviours, run against every built-in channel kind through the delivery contract:
perform, perform again with the same key, take down (twice), and reconcile after an unknown outcome.

Each kind meets its real counterpart on 127.0.0.1: the website and feeds on disk, the WeChat
sandbox server, the sandbox partner newspaper, the loopback sink.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from sqlmodel import Session

from publisher.articles import get_article
from publisher.channels.wechat.sandbox import State, running
from publisher.delivery import BundlingPerformer, Performer, Receipt, channel_kinds
from publisher.delivery.states import DeliveryAction, Step
from publisher.engine import claims, retraction, scheduling
from publisher.engine.performers import performer_for
from publisher.ingest import ingest
from publisher.newsroom import Newsroom
from publisher.store.tables import Delivery, Revision
from publisher.supply.sandbox import SandboxPartner
from tests.review_helpers import seed_users
from tests.sink import Sink
from tests.supply_support import PUSH, SECRET, SECRET_ENV, aim_partners, approve
from tests.wechat_helpers import APP_ID, sandbox_state

KINDS = ("website", "feed", "wechat", "partner", "sink")
SLUG = "article-1"
TITLE = "测试稿件第1篇"


@dataclass
class Counterpart:
    """The other side of one channel, as the test sees it."""

    channel: str
    copies: Callable[[], int]  # how many live copies of the article it holds


@dataclass
class Case:
    room: Newsroom
    side: Counterpart
    performer: Performer

    def revision(self) -> Revision:
        with Session(self.room.engine) as session:
            revision = get_article(session, SLUG).revision
            session.expunge(revision)
            return revision

    def claim(self, delivery_id: int) -> Delivery:
        now = datetime.now(UTC)
        [claim] = claims.claim_due(
            self.room.engine,
            "contract",
            now,
            timedelta(minutes=5),
            10,
            {},
            self.room.settings.tz,
            only=[delivery_id],
        )
        return claim.delivery

    def record(self, delivery: Delivery, receipt: Receipt) -> None:
        outcome = claims.Outcome(delivery, Step.DONE, receipt_json=receipt.to_json(), after=receipt.ledger)
        assert claims.finish(self.room.engine, "contract", [outcome], datetime.now(UTC)) == 1

    def release(self) -> tuple[Delivery, Receipt]:
        [scheduled] = scheduling.schedule(
            self.room, SLUG, [self.side.channel], datetime.now(UTC), "zhouwb"
        ).items
        delivery = self.claim(scheduled.delivery_id)
        receipt = self.performer.perform(delivery, self.revision())
        self.record(delivery, receipt)
        return delivery, receipt

    def takedown(self) -> Delivery:
        report = retraction.retract(self.room, SLUG, "数据有误", "zhouwb")
        [mine] = [c for c in report.channels if c.channel == self.side.channel]
        return self.claim(mine.delivery_id)


def _page(room: Newsroom) -> int:
    return int((room.root / "public" / "articles" / f"{SLUG}.html").is_file())


def _feed_items(room: Newsroom) -> int:
    feed = room.root / "public" / "feeds" / "all.rss.xml"
    if not feed.is_file():
        return 0
    return feed.read_text(encoding="utf-8").count(f"/articles/{SLUG}.html</link>")


def _wechat_copies(base: str) -> int:
    posts = sandbox_state(base)["posts"].values()
    return sum(1 for post in posts for a in post if a["title"] == TITLE and not a["is_deleted"])


def _partner_copies(partner: SandboxPartner) -> int:
    """Versions the partner runs: a kill notice withdraws every one before it."""
    packages = [r.package for r in partner.received.values()]  # by Idempotency-Key, in order
    return int(bool(packages) and packages[-1].get("pubstatus") != "canceled")


def _sink_copies(sink: Sink) -> int:
    live = 0
    for body in sink.bodies.values():  # by Idempotency-Key: a repeat under one key counts once
        live = 0 if body.get("action") == DeliveryAction.TAKE_DOWN else live + 1
    return live


@pytest.fixture(params=KINDS)
def case(
    request: pytest.FixtureRequest, newsroom_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Case]:
    kind: str = request.param
    with (
        running(State(app_id=APP_ID, secret=None, publish_delay=0.05)) as wechat,
        SandboxPartner(SECRET) as partner,
        Sink() as sink,
    ):
        (newsroom_dir / "channels" / "wechat.toml").write_text(
            'kind = "wechat"\ntitle = "江澜人大（微信公众号）"\n[settings]\n'
            f'app_id = "{APP_ID}"\napp_secret_env = "PUBLISHER_WECHAT_SECRET"\napi_base = "{wechat}"\n'
            "sandbox = true\npushes_per_day = 20\nquiet_hours = []\npoll_seconds = 0.05\n"
            'default_cover = "channels/assets/wechat-default-cover.jpg"\n',
            encoding="utf-8",
        )
        (newsroom_dir / "channels" / "sink.toml").write_text(
            f'kind = "sink"\ntitle = "测试接收端"\n[settings]\nurl = "{sink.url}"\n', encoding="utf-8"
        )
        aim_partners(newsroom_dir, partner.url)
        monkeypatch.setenv(SECRET_ENV, SECRET)
        monkeypatch.setenv("PUBLISHER_DATABASE_URL", db_url)
        room = Newsroom(newsroom_dir)
        assert not room.channels.problems, room.channels.problems
        assert ingest(room).ok
        seed_users(room)
        approve(room, SLUG)
        side = {
            "website": Counterpart("website", lambda: _page(room)),
            "feed": Counterpart("site-feed", lambda: _feed_items(room)),
            "wechat": Counterpart("wechat", lambda: _wechat_copies(wechat)),
            "partner": Counterpart(PUSH, lambda: _partner_copies(partner)),
            "sink": Counterpart("sink", lambda: _sink_copies(sink)),
        }[kind]
        channel = room.channels.channels[side.channel]
        assert channel.kind == kind
        performer = performer_for(room, channel)
        yield Case(room, side, performer)
        performer.close()
        room.close()


def test_every_kind_performs_through_the_contract_and_the_channel_holds_one_copy(case: Case) -> None:
    assert isinstance(case.performer, Performer)
    assert case.side.copies() == 0
    _, receipt = case.release()
    assert receipt.remote_id and case.side.copies() == 1


def test_performing_again_with_the_same_key_makes_no_second_copy(case: Case) -> None:
    delivery, _ = case.release()
    again = case.performer.perform(delivery, case.revision())
    assert again.remote_id and case.side.copies() == 1


def test_a_takedown_removes_the_article_and_a_second_takedown_does_no_more(case: Case) -> None:
    case.release()
    takedown = case.takedown()
    receipt = case.performer.take_down(takedown, case.revision())
    case.record(takedown, receipt)
    assert case.side.copies() == 0
    case.performer.take_down(takedown, case.revision())
    assert case.side.copies() == 0


def test_after_an_unknown_outcome_reconciling_then_retrying_leaves_one_copy(case: Case) -> None:
    [scheduled] = scheduling.schedule(case.room, SLUG, [case.side.channel], datetime.now(UTC), "zhouwb").items
    delivery = case.claim(scheduled.delivery_id)
    case.performer.perform(delivery, case.revision())  # it acted, but say the answer was lost
    found = case.performer.reconcile(delivery)
    if found is None:  # not found: only a performer whose retry is safe may send again
        assert case.performer.retry_safe
        found = case.performer.perform(delivery, case.revision())
    case.record(delivery, found)
    assert case.side.copies() == 1


def test_every_built_in_kind_is_registered_in_the_entry_point_group() -> None:
    names = {point.name for point in entry_points(group="publisher.channel_kinds")}
    assert set(KINDS) <= names and set(KINDS) <= set(channel_kinds())


# Kinds that send releases due together as one: WeChat (one post of up to 8 articles), a website
# and its feeds (one build, so all of them are live after it), a partner (its pushes side by side).
BUNDLING = {"wechat", "website", "feed", "partner"}


def test_exactly_the_kinds_that_bundle_declare_the_bundling_protocol(case: Case) -> None:
    bundles = isinstance(case.performer, BundlingPerformer)
    assert bundles == (case.room.channels.channels[case.side.channel].kind in BUNDLING)


def test_loading_the_channel_kinds_imports_no_performer_module() -> None:
    code = (
        "import sys; from publisher.delivery.kinds import channel_kinds; channel_kinds(); "
        "print(sorted(m for m in ('wechatpy', 'publisher.engine.wechat_performer', "
        "'publisher.supply.performer', 'publisher.engine.adapters') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
