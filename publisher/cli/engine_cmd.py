"""schedule, unschedule, run, status, pause, resume (the queue is queue_cmd.py)."""

from __future__ import annotations

import logging
import signal
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from sqlmodel import col, select

from publisher.auth.permissions import Act
from publisher.cli.common import (
    JsonOpt,
    NewsroomOpt,
    console,
    err_console,
    open_newsroom,
    print_json,
    staff_errors,
)
from publisher.cli.identity import AsOpt, authorized
from publisher.engine import scheduling
from publisher.engine.clock import CompressedClock, RealClock
from publisher.engine.pause import set_paused
from publisher.engine.status import engine_status
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.store.engine import read_session
from publisher.store.tables import Delivery

if TYPE_CHECKING:
    from publisher.engine.worker import WindowPolicy
    from publisher.schedule import Slot
from publisher.timeutil import show


def parse_time(text: str, tz: ZoneInfo) -> datetime:
    """ISO 8601; a time without an offset is the newsroom's local time (how staff think of it)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise PublisherError(f"无法识别的时间 / not a time: {text!r} (e.g. 2026-12-04T09:00)") from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def register(app: typer.Typer) -> None:
    @app.command()
    def schedule(
        slug: str,
        channels: Annotated[
            str, typer.Option("--channels", "-c", help="渠道，逗号分隔 / channels, comma-separated")
        ],
        at: Annotated[str | None, typer.Option("--at", help="发布时间（本地时间或带时区） / when")] = None,
        slot: Annotated[str | None, typer.Option("--slot", help="CAMPAIGN#N：专题的第 N 个时段")] = None,
        next_slot: Annotated[str | None, typer.Option("--next-slot", help="CAMPAIGN：下一个空时段")] = None,
        now: Annotated[bool, typer.Option("--now", help="立即发布 / send at once")] = False,
        again: Annotated[
            bool,
            typer.Option(
                "--again", help="另加一次发布，不改期已有的 / a deliberate second release, not a move"
            ),
        ] = False,
        move: Annotated[
            bool,
            typer.Option(
                "--move", help="改期待发的发布，没有则报错 / move the pending release; an error if none"
            ),
        ] = False,
        as_: AsOpt = None,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """安排发布 / schedule an article on channels."""
        with staff_errors():
            room = open_newsroom(newsroom)
            user = authorized(room, as_, Act.SCHEDULE).username
            names = [c.strip() for c in (channels or "").split(",") if c.strip()]
            chosen = [x for x in (at, slot, next_slot, now) if x]
            if len(chosen) != 1:
                raise PublisherError(
                    "请指定 --at、--slot、--next-slot、--now 之一 / "
                    "give exactly one of --at, --slot, --next-slot, --now"
                )
            campaign: str | None = None
            number: int | None = None
            if now:
                due = RealClock().now()
            elif at:
                due = parse_time(at, room.settings.tz)
            else:
                found = _resolve_slot(room, slot, next_slot)
                campaign, number, due = found.campaign, found.number, found.due
                names = names or list(found.channels)
            result = scheduling.schedule(
                room, slug, names, due, user, campaign=campaign, slot_number=number, again=again, move=move
            )
        tz = room.settings.tz
        for item in result.items:
            if item.moved_from is not None:
                console.print(
                    f"已改期 / moved: {slug} → {item.channel} {show(item.moved_from, tz)} ⇒ {show(item.due, tz)}"
                    + ("" if move else "（另加一次请用 --again / for a second release use --again）")
                )
                continue
            verb = "已安排" if item.created else "已存在"
            console.print(
                f"{verb} / {'scheduled' if item.created else 'exists'}: {slug} → {item.channel} "
                f"{show(item.due, tz)}" + (f"（{campaign}#{number}）" if campaign else "")
            )
        for warning in result.warnings:
            console.print(f"[yellow]警告 / warning:[/] {escape(warning)}")

    @app.command()
    def unschedule(
        slug: str,
        channels: Annotated[str | None, typer.Option("--channels", "-c", help="只取消这些渠道")] = None,
        as_: AsOpt = None,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """取消尚未发出的发布 / cancel releases not yet performed."""
        with staff_errors():
            room = open_newsroom(newsroom)
            user = authorized(room, as_, Act.SCHEDULE).username
            names = [c.strip() for c in channels.split(",")] if channels else None
            count = scheduling.unschedule(room, slug, user, names)
        console.print(f"已取消 {count} 项 / canceled {count}")

    @app.command()
    def run(
        newsroom: NewsroomOpt = Path("."),
        once: Annotated[bool, typer.Option("--once", help="处理到期任务后退出（供 cron 使用）")] = False,
        speed: Annotated[
            float, typer.Option("--speed", help="时间加速倍数（演示用） / time compression")
        ] = 1.0,
        start: Annotated[
            str | None, typer.Option("--from", help="加速时钟的起点 / virtual start time")
        ] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
        skip_doctor: Annotated[
            bool,
            typer.Option(
                "--skip-doctor",
                help="不先做 publisher doctor 检查 / start without the doctor's checks",
            ),
        ] = False,
    ) -> None:
        """运行发布引擎 / run a delivery worker (SIGTERM finishes in-flight work and releases claims)."""
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
        # A record's caller (a walk up the stack), thread and process are not in the line; at a line
        # per release, gathering them cost about as much CPU as formatting and writing the line
        # (the logging HOWTO's "Optimization" section names these switches).
        logging._srcfile = None
        logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
        # One line per release at INFO, always: what a person watching the worker needs to see.
        logging.getLogger("publisher.engine").setLevel(logging.DEBUG if verbose else logging.INFO)
        if verbose:
            logging.getLogger().setLevel(logging.INFO)
        with staff_errors():
            room = open_newsroom(newsroom)
            if not skip_doctor:
                _refuse_when_doctor_blocks(room)
            clock = (
                RealClock()
                if speed == 1.0 and start is None
                else CompressedClock(
                    parse_time(start, room.settings.tz) if start else RealClock().now(), speed
                )
            )
            from publisher.engine.worker import DeliveryWorker  # APScheduler and performers: `run` only

            worker = DeliveryWorker(room, clock=clock, windows=_windows(room))
            if once:
                done = worker.run_once()
                console.print(f"本轮发出 {done} 项 / delivered {done}")
                count = worker.trouble_count
                if count:
                    # cron alerts on a non-zero exit: a failed or held release must be seen.
                    err_console.print(
                        f"[bold red]{count} 项失败或暂缓 / {count} failed or held:[/] "
                        + "; ".join(escape(t) for t in worker.troubles)
                        + "（详见 publisher queue / see publisher queue）"
                    )
                    raise typer.Exit(1)
                return

            def stop(_signum: int, _frame: FrameType | None) -> None:
                worker.request_stop()

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
            err_console.print(f"发布引擎运行中 / worker {worker.id} running (Ctrl-C to stop)")
            worker.run_forever()
            err_console.print(f"已停止 / stopped; processed {worker.processed}")

    @app.command()
    def status(
        newsroom: NewsroomOpt = Path("."),
        as_json: JsonOpt = False,
        all_: Annotated[
            bool, typer.Option("--all", help="包括已停止的引擎（历史） / include workers that stopped")
        ] = False,
    ) -> None:
        """引擎与队列状态（默认只列在线引擎） / live workers and delivery counts."""
        with staff_errors():
            room = open_newsroom(newsroom)
            with read_session(room.engine) as session:
                st = engine_status(session, RealClock().now(), room.settings.engine.heartbeat_seconds)
        # Every worker that ever ran stays on record; staff asking "what is running" want the live ones.
        workers = st.workers if all_ else [w for w in st.workers if w.alive]
        if as_json:
            print_json(
                {
                    "paused": st.paused,
                    "counts": st.counts,
                    "workers": [
                        {
                            "id": w.id,
                            "state": w.state,
                            "alive": w.alive,
                            "heartbeat_at": w.heartbeat_at.isoformat(),
                            "processed": w.processed,
                        }
                        for w in workers
                    ],
                }
            )
            return
        console.print(
            ("[bold red]已暂停 / PAUSED[/]  " if st.paused else "")
            + "  ".join(f"{k} {v}" for k, v in st.counts.items())
        )
        if not workers:
            console.print(
                "  没有在线的发布引擎 / no worker is running"
                + ("" if all_ else "（--all 查看历史 / --all for history）")
            )
        for w in workers:
            mark = "[green]在线[/]" if w.alive else "离线"
            console.print(
                f"  {mark} {w.id} {w.state} 心跳 {show(w.heartbeat_at, room.settings.tz)} 已处理 {w.processed}"
            )

    @app.command()
    def pause(
        reason: Annotated[str | None, typer.Option("--reason")] = None,
        as_: AsOpt = None,
        newsroom: NewsroomOpt = Path("."),
    ) -> None:
        """紧急暂停全部发布 / emergency: stop every release, newsroom-wide."""
        with staff_errors():
            room = open_newsroom(newsroom)
            set_paused(room, True, authorized(room, as_, Act.PAUSE).username, reason)
        console.print("[bold red]已暂停全部发布 / all releases paused[/]")

    @app.command()
    def resume(as_: AsOpt = None, newsroom: NewsroomOpt = Path(".")) -> None:
        """恢复发布 / resume releases."""
        with staff_errors():
            room = open_newsroom(newsroom)
            set_paused(room, False, authorized(room, as_, Act.PAUSE).username)
        console.print("已恢复发布 / releases resumed")


def _refuse_when_doctor_blocks(room: Newsroom) -> None:
    """A worker started on a newsroom that cannot publish (a WeChat secret unset, a review chain
    nobody can finish) would fail release after release: say so before it starts."""
    from publisher import doctor  # probes endpoints and reads every setting: only when `run` starts

    problems = doctor.blocking(room)
    if not problems:
        return
    err_console.print("[bold red]发布引擎未启动 / the worker did not start:[/]")
    for problem in problems:
        err_console.print(f"  - {escape(problem)}")
    err_console.print(
        "请先修正以上问题（publisher doctor 查看详情）；确需启动请加 --skip-doctor / "
        "fix these first (see `publisher doctor`), or start anyway with --skip-doctor"
    )
    raise typer.Exit(1)


def _windows(room: Newsroom) -> WindowPolicy:
    """Quiet hours, blackout windows and the file pause switch, from schedules/."""
    from publisher.schedule import load_schedules  # read by `run` and `schedule`, not by `queue`

    return load_schedules(room)


def _resolve_slot(room: Newsroom, slot: str | None, next_slot: str | None) -> Slot:
    """`CAMPAIGN#N`, or the first future slot of CAMPAIGN that no release fills yet."""
    from publisher.schedule import load_schedules

    schedules = load_schedules(room)
    if slot:
        key, _, number = slot.partition("#")
        if not number.isdigit():
            raise PublisherError(f"时段应写作 CAMPAIGN#N / a slot is CAMPAIGN#N, got {slot!r}")
        return schedules.slot(key, int(number))
    assert next_slot is not None
    with read_session(room.engine) as session:
        filled = set(
            session.exec(
                select(Delivery.slot_number).where(
                    Delivery.campaign == next_slot, col(Delivery.status) != "canceled"
                )
            )
        )
    for candidate in schedules.slots(next_slot, start=RealClock().now()):
        if candidate.number not in filled:
            return candidate
    raise PublisherError(
        f"专题 {next_slot} 没有空余的未来时段 / campaign {next_slot} has no empty future slot"
    )
