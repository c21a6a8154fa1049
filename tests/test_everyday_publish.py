"""The rest of a newsroom's first hour (issue 14): moving a release on purpose, publishing now
through the engine and its gate, lifting a retraction back into review, and a worker that will not
start on a newsroom the doctor finds unable to publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from publisher.cli import app
from publisher.delivery.states import DeliveryAction, DeliveryState
from publisher.engine import retraction, scheduling
from publisher.newsroom import Newsroom
from publisher.store.tables import Article, AuditEvent, Delivery, Reinstatement, Retraction, ReviewState
from publisher.timeutil import show
from tests.review_helpers import approve, cli_login
from tests.sink import Sink

runner = CliRunner()


def run(room: Newsroom, db_url: str, *args: str) -> tuple[int, str, str]:
    env = {"PUBLISHER_NEWSROOM": str(room.root), "PUBLISHER_DATABASE_URL": db_url, "COLUMNS": "200"}
    result = runner.invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def signed_in(sink_room: Newsroom) -> None:
    """The duty editor has run `publisher login`: commands without --as act as zhouwb."""
    cli_login(sink_room, "zhouwb")


def releases(room: Newsroom, slug: str) -> list[Delivery]:
    with Session(room.engine) as s:
        return list(
            s.exec(
                select(Delivery)
                .join(Article, col(Article.id) == col(Delivery.article_id))
                .where(Article.slug == slug, Delivery.action == DeliveryAction.PUBLISH)
                .order_by(col(Delivery.id))
            )
        )


def actions(room: Newsroom) -> list[str]:
    with Session(room.engine) as s:
        return [e.action for e in s.exec(select(AuditEvent).order_by(col(AuditEvent.seq)))]


# -- 1. schedule --move ------------------------------------------------------------------------------
def test_schedule_move_moves_the_pending_release_and_shows_from_and_to_in_the_newsroom_time(
    sink_room: Newsroom, db_url: str
) -> None:
    code, out, err = run(sink_room, db_url, "schedule", "article-1", "-c", "sink", "--at", "2031-12-04 09:00")
    assert code == 0, out + err
    code, out, err = run(
        sink_room, db_url, "schedule", "article-1", "-c", "sink", "--at", "2031-12-04 15:30", "--move"
    )
    assert code == 0, out + err
    assert "2031-12-04 09:00 +0800" in out and "2031-12-04 15:30 +0800" in out, out
    assert "moved" in out
    [row] = releases(sink_room, "article-1")
    assert show(row.due_at, sink_room.settings.tz) == "2031-12-04 15:30 +0800"
    assert row.status == DeliveryState.SCHEDULED


def test_schedule_move_without_a_pending_release_names_the_slug_and_channel_and_plans_nothing(
    sink_room: Newsroom, db_url: str
) -> None:
    code, out, err = run(
        sink_room, db_url, "schedule", "article-2", "-c", "sink", "--at", "2031-12-04 15:30", "--move"
    )
    assert code == 1, out + err
    assert "article-2" in err and "sink" in err and "no pending release" in err and "没有待发" in err
    assert "Traceback" not in out + err
    assert releases(sink_room, "article-2") == []


def test_schedule_move_refuses_a_canceled_release_as_nothing_pending(
    sink_room: Newsroom, db_url: str
) -> None:
    due = datetime(2031, 12, 4, 1, 0, tzinfo=UTC)
    scheduling.schedule(sink_room, "article-3", ["sink"], due, "zhouwb")
    scheduling.unschedule(sink_room, "article-3", "zhouwb")
    with pytest.raises(scheduling.ScheduleError, match="no pending release on sink"):
        scheduling.schedule(sink_room, "article-3", ["sink"], due + timedelta(hours=2), "zhouwb", move=True)


# -- 2. publish now ----------------------------------------------------------------------------------
def test_publish_sends_an_approved_article_now_through_the_engine_and_exits_0(
    sink_room: Newsroom, db_url: str, sink: Sink
) -> None:
    approve(sink_room, "article-1")
    later = datetime.now(UTC) + timedelta(days=3)
    scheduling.schedule(sink_room, "article-1", ["sink"], later, "zhouwb")

    code, out, err = run(sink_room, db_url, "publish", "article-1", "--channel", "sink", "--as", "zhouwb")

    assert code == 0, out + err
    assert "done" in out and "sink" in out
    assert sink.distinct == 1
    [row] = releases(sink_room, "article-1")
    assert row.status == DeliveryState.DONE and row.due_at < later - timedelta(days=2)
    assert "delivery.move" in actions(sink_room), "the pending release was moved to now, audited"


def test_publish_of_an_unapproved_article_is_held_by_the_gate_with_its_reasons_and_exits_1(
    sink_room: Newsroom, db_url: str, sink: Sink
) -> None:
    code, out, err = run(sink_room, db_url, "publish", "article-2", "--channel", "sink", "--as", "zhouwb")
    assert code == 1, out + err
    assert "held" in out and "never submitted for review" in out, out
    assert sink.distinct == 0
    [row] = releases(sink_room, "article-2")
    assert row.status == DeliveryState.HELD


def test_publish_reports_a_channel_that_asks_to_retry_as_pending_and_exits_2(
    sink_room: Newsroom, db_url: str, sink: Sink
) -> None:
    approve(sink_room, "article-3")
    sink.script = [(503, {"Retry-After": "120"})]
    code, out, err = run(sink_room, db_url, "publish", "article-3", "--channel", "sink", "--as", "zhouwb")
    assert code == 2, out + err
    assert "pending" in out and "publisher run" in out
    [row] = releases(sink_room, "article-3")
    assert row.status == DeliveryState.SCHEDULED and sink.distinct == 0


def test_publish_now_waits_for_the_channel_quiet_hours_like_any_release(
    sink_room: Newsroom, db_url: str, sink: Sink
) -> None:
    approve(sink_room, "article-1")
    local = datetime.now(UTC).astimezone(sink_room.settings.tz)
    rules = sink_room.root / "schedules" / "newsroom.toml"
    quiet = f'start = "{(local - timedelta(hours=1)):%H:%M}"\nend = "{(local + timedelta(hours=1)):%H:%M}"\n'
    text = rules.read_text(encoding="utf-8").replace(
        'start = "22:00"\nend = "07:30"\nchannels = ["wechat"]', quiet + 'channels = ["wechat", "sink"]'
    )
    assert "sink" in text
    rules.write_text(text, encoding="utf-8")

    code, out, err = run(sink_room, db_url, "publish", "article-1", "--channel", "sink", "--as", "zhouwb")

    assert code == 2 and "pending" in out, out + err
    assert sink.distinct == 0, "nothing goes out in the channel's quiet hours"


def test_publish_on_an_unknown_channel_is_a_clear_error_not_a_traceback(
    sink_room: Newsroom, db_url: str
) -> None:
    code, out, err = run(sink_room, db_url, "publish", "article-1", "--channel", "nowhere", "--as", "zhouwb")
    assert code == 1 and "unknown channel nowhere" in err, out + err
    assert "Traceback" not in out + err


# -- 3. restore-article ------------------------------------------------------------------------------
def test_a_lifted_retraction_publishes_nothing_until_the_article_is_approved_again(
    sink_room: Newsroom, db_url: str, sink: Sink
) -> None:
    approve(sink_room, "article-1")
    assert run(sink_room, db_url, "publish", "article-1", "-c", "sink", "--as", "zhouwb")[0] == 0
    retraction.take_down_now(sink_room, retraction.retract(sink_room, "article-1", "数据有误", "zhouwb"))

    code, out, err = run(
        sink_room, db_url, "restore-article", "article-1", "--reason", "已核实无误", "--as", "zhouwb"
    )

    assert code == 0, out + err
    assert "retraction lifted" in out and "review submit" in out
    with Session(sink_room.engine) as s:
        assert s.exec(select(Retraction)).one().reason == "数据有误", "the retraction stays on record"
        lift = s.exec(select(Reinstatement)).one()
        assert (lift.reason, lift.reinstated_by, lift.retraction_reason) == (
            "已核实无误",
            "zhouwb",
            "数据有误",
        )
        states = {
            r.status for r in s.exec(select(ReviewState).where(ReviewState.article_id == lift.article_id))
        }
    assert states == {"withdrawn"}, "the approval given before the retraction is void"
    assert "article.reinstate" in actions(sink_room)

    # The gate no longer says "retracted", but the old approval does not count.
    code, out, err = run(sink_room, db_url, "publish", "article-1", "-c", "sink", "--as", "zhouwb")
    assert code == 1 and "held" in out, out + err
    assert "retracted" not in out and "撤稿" not in out, out

    approve(sink_room, "article-1")  # submitted and approved again, after the lift
    code, out, err = run(sink_room, db_url, "publish", "article-1", "-c", "sink", "--as", "zhouwb")
    assert code == 0 and "done" in out, out + err


def test_restore_article_of_an_article_not_retracted_is_a_clear_error(
    sink_room: Newsroom, db_url: str
) -> None:
    code, out, err = run(
        sink_room, db_url, "restore-article", "article-2", "--reason", "误操作", "--as", "zhouwb"
    )
    assert code == 1 and "is not retracted" in err and "未被撤稿" in err, out + err
    with Session(sink_room.engine) as s:
        assert s.exec(select(Reinstatement)).all() == []


def test_only_an_editor_admin_or_leader_may_lift_a_retraction(sink_room: Newsroom, db_url: str) -> None:
    retraction.retract(sink_room, "article-2", "数据有误", "zhouwb")
    cli_login(sink_room, "wangxm")
    code, out, err = run(
        sink_room, db_url, "restore-article", "article-2", "--reason", "核实", "--as", "wangxm"
    )
    assert code == 1 and "wangxm may not retract" in " ".join(err.split()), out + err
    code, out, err = run(
        sink_room, db_url, "restore-article", "article-2", "--reason", "核实", "--as", "nobody"
    )
    assert code == 1 and "not signed in as nobody" in " ".join(err.split()), out + err
    with Session(sink_room.engine) as s:
        assert s.exec(select(Reinstatement)).all() == []


def test_retracting_again_after_a_lift_takes_the_article_down_again(sink_room: Newsroom, db_url: str) -> None:
    approve(sink_room, "article-1")
    assert run(sink_room, db_url, "publish", "article-1", "-c", "sink", "--as", "zhouwb")[0] == 0
    first = retraction.take_down_now(
        sink_room, retraction.retract(sink_room, "article-1", "第一次", "zhouwb")
    )
    retraction.reinstate(sink_room, "article-1", "核实", "zhouwb")
    approve(sink_room, "article-1")

    again = retraction.retract(sink_room, "article-1", "第二次", "zhouwb")

    assert not again.already, "a retraction after a lift is a new one"
    assert {c.delivery_id for c in again.channels}.isdisjoint({c.delivery_id for c in first.channels})
    code, out, err = run(sink_room, db_url, "publish", "article-1", "-c", "sink", "--as", "zhouwb")
    assert code == 1 and "retracted" in out, out + err
    with Session(sink_room.engine) as s:
        assert s.exec(select(Retraction)).one().reason == "第二次"
        assert s.exec(select(Reinstatement)).one().retraction_reason == "第一次"


# -- 4. run checks the doctor first --------------------------------------------------------------------
def test_run_does_not_start_when_the_doctor_finds_blocking_problems_and_says_what_to_do(
    sink_room: Newsroom, db_url: str
) -> None:
    # The test newsroom's WeChat account has no secret: the doctor blocks.
    code, out, err = run(sink_room, db_url, "run", "--once")
    assert code == 1, out + err
    assert "did not start" in err and "PUBLISHER_WECHAT_SECRET" in err and "--skip-doctor" in err
    assert "本轮发出" not in out, "no round ran"


def test_run_with_skip_doctor_starts_despite_blocking_problems(sink_room: Newsroom, db_url: str) -> None:
    code, out, err = run(sink_room, db_url, "run", "--once", "--skip-doctor")
    assert code == 0 and "本轮发出 0 项" in out, out + err
