"""Read `schedules/`, check every reference, and build the Schedules the engine and the plan use.

Every problem in every file is collected before anything is raised, so staff fix them in one go.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from publisher.errors import ConfigError, Problem, display_path
from publisher.newsroom import Newsroom
from publisher.review.register import REGISTER_FILE, MeetingRegister, load_register
from publisher.schedule import cadence as cad
from publisher.schedule.keydates import KeyDate, KeyDateIndex, RefError
from publisher.schedule.model import (
    Blackout,
    CampaignFile,
    CountdownCadence,
    DailyCadence,
    KeyDatesFile,
    NewsroomRules,
    OnceCadence,
    QuietHours,
    WeeklyCadence,
)
from publisher.schedule.schedules import Campaign, Schedules, Slot
from publisher.schedule.windows import BlackoutWindow, QuietWindow, Window
from publisher.schedule.workdays import WorkingCalendar, fallback_warning
from publisher.tomlproblems import TomlSource, did_you_mean, explain

KEY_DATES_FILE = "key-dates.toml"
RULES_FILE = "newsroom.toml"
CAMPAIGNS_DIR = "campaigns"
# Longer windows are almost always a typo in the year, and would make thousands of slots.
MAX_WINDOW_DAYS = 3 * 366
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

M = TypeVar("M", bound=BaseModel)


# Kept under its old name: the loader's helpers take a reader.
_Reader = TomlSource


def _read(path: Path, root: Path, model: type[M], problems: list[Problem]) -> tuple[M | None, _Reader | None]:
    source = display_path(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(source, "文件不是 UTF-8 编码 / file is not UTF-8"))
        return None, None
    reader = _Reader(source, text)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        at = int(line.group(1)) if line else None
        if at is None and "end of document" in str(exc):
            at = len(reader.lines)
        problems.append(Problem(source, f"TOML 语法错误 / syntax error: {exc}", line=at))
        return None, reader
    try:
        return model.model_validate(data), reader
    except ValidationError as exc:
        for err in exc.errors():
            loc = _data_loc(data, err["loc"])
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "kind")  # the cadence's `kind` is what is wrong or missing
            problems.append(reader.problem(explain(err, model, tuple(err["loc"])), loc))
        return None, reader


_CADENCE_TAGS = frozenset({"weekly", "daily", "countdown", "once"})


def _data_loc(data: Any, loc: tuple[int | str, ...]) -> tuple[str | int, ...]:
    """The path as written in the file: without a union's tag or a member type's name."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
            elif part not in _CADENCE_TAGS:
                out.append(part)  # a missing field: named, though it has no line of its own
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        else:
            break
    return tuple(out)


class _Context:
    def __init__(self, newsroom: Newsroom, problems: list[Problem]) -> None:
        self.newsroom = newsroom
        self.tz: ZoneInfo = newsroom.settings.tz
        self.problems = problems
        # A channel whose file is broken is reported there; naming it here is no second mistake.
        broken = {Path(p.file).stem for p in newsroom.channels.problems}
        self.channels = newsroom.channels.names | broken
        self.index = KeyDateIndex()

    def check_channels(self, reader: _Reader, names: list[str], loc: tuple[str | int, ...]) -> None:
        for i, name in enumerate(names):
            if name not in self.channels:
                known = ", ".join(sorted(self.channels)) or "—"
                self.problems.append(
                    reader.problem(
                        f"未知渠道 / unknown channel {name!r}{did_you_mean(name, self.channels)} "
                        f"(channels/ declares: {known})",
                        (*loc, i),
                    )
                )

    def resolve(
        self, reader: _Reader, expression: date | str, year: int | None, loc: tuple[str | int, ...]
    ) -> date | None:
        try:
            return self.index.resolve(expression, year)
        except RefError as exc:
            self.problems.append(reader.problem(str(exc), loc))
            return None

    def windows(
        self,
        reader: _Reader,
        quiet: list[QuietHours],
        blackouts: list[Blackout],
        year: int | None,
    ) -> tuple[tuple[QuietWindow, ...], tuple[BlackoutWindow, ...]]:
        quiet_out = []
        for i, q in enumerate(quiet):
            self.check_channels(reader, q.channels, ("quiet_hours", i, "channels"))
            quiet_out.append(QuietWindow(q.start, q.end, self.tz, frozenset(q.channels), q.reason))
        black_out = []
        for i, b in enumerate(blackouts):
            loc: tuple[str | int, ...] = ("blackout", i)
            self.check_channels(reader, b.channels, (*loc, "channels"))
            span = self._blackout_span(reader, b, year, loc)
            if span is not None:
                black_out.append(BlackoutWindow(span[0], span[1], self.tz, frozenset(b.channels), b.reason))
        return tuple(quiet_out), tuple(black_out)

    def _blackout_span(
        self, reader: _Reader, b: Blackout, year: int | None, loc: tuple[str | int, ...]
    ) -> tuple[datetime, datetime] | None:
        if b.key_date is not None:
            first = self.resolve(reader, b.key_date, year, (*loc, "key_date"))
            last = self.resolve(reader, f"{b.key_date}.end", year, (*loc, "key_date")) if first else None
            if first is None or last is None:
                return None
            return self._midnight(first), self._midnight(last + timedelta(days=1))
        assert b.start is not None and b.end is not None
        start = self._moment(reader, b.start, year, (*loc, "start"), end=False)
        end = self._moment(reader, b.end, year, (*loc, "end"), end=True)
        if start is None or end is None:
            return None
        if end <= start:
            self.problems.append(
                reader.problem("停发时段的结束不晚于开始 / the blackout ends before it starts", (*loc, "end"))
            )
            return None
        return start, end

    def _moment(
        self,
        reader: _Reader,
        value: date | datetime | str,
        year: int | None,
        loc: tuple[str | int, ...],
        end: bool,
    ) -> datetime | None:
        if isinstance(value, datetime):
            moment = value if value.tzinfo is not None else value.replace(tzinfo=self.tz)
            return moment.astimezone(UTC)
        day = self.resolve(reader, value, year, loc)
        if day is None:
            return None
        # A date as the end means "through that day".
        return self._midnight(day + timedelta(days=1) if end else day)

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)


def _register_key_dates(
    ctx: _Context, register: MeetingRegister, key_dates: KeyDatesFile | None, reader: _Reader | None
) -> None:
    meetings = {m.id: m for m in register.meeting}
    linked: set[str] = set()
    items: list[tuple[KeyDate, tuple[str | int, ...]]] = []
    if key_dates is not None and reader is not None:
        for i, a in enumerate(key_dates.annual):
            start = tuple(int(x) for x in a.date.split("-"))
            end = tuple(int(x) for x in a.end.split("-")) if a.end else None
            item = KeyDate(
                key=a.key,
                name=a.name,
                kind="annual",
                aliases=tuple(a.aliases),
                annual_start=(start[0], start[1]),
                annual_end=(end[0], end[1]) if end else None,
                source=reader.source,
            )
            items.append((item, ("annual", i)))
        for i, d in enumerate(key_dates.dated):
            loc: tuple[str | int, ...] = ("dated", i)
            name, start_d, end_d, kind = d.name, d.start, d.end, d.kind or "event"
            if d.meeting is not None:
                meeting = meetings.get(d.meeting)
                if meeting is None:
                    known = ", ".join(sorted(meetings)) or "—"
                    ctx.problems.append(
                        reader.problem(
                            f"会议登记中没有这个会议 / no meeting {d.meeting!r} in {REGISTER_FILE} (known: {known})",
                            (*loc, "meeting"),
                        )
                    )
                    continue
                linked.add(meeting.id)
                for field, mine, theirs in (("start", d.start, meeting.start), ("end", d.end, meeting.end)):
                    if mine is not None and mine != theirs:
                        ctx.problems.append(
                            reader.problem(
                                f"与会议登记不符 / {field} {mine} differs from {REGISTER_FILE} ({theirs}); "
                                "leave it out: the register is the record",
                                (*loc, field),
                            )
                        )
                name = name or meeting.name
                start_d, end_d = meeting.start, meeting.end
                kind = d.kind or ("congress-session" if meeting.body == "congress" else "sc-meeting")
            assert name is not None and start_d is not None
            item = KeyDate(
                key=d.key,
                name=name,
                kind=kind,
                aliases=tuple(d.aliases),
                start=start_d,
                end=end_d,
                meeting=d.meeting,
                source=reader.source,
            )
            items.append((item, loc))
    for item, loc in items:
        for clash in ctx.index.add(item):
            assert reader is not None
            ctx.problems.append(
                reader.problem(f"关键日期的名称或 key 重复 / {clash!r} names two key dates", (*loc, "key"))
            )
    # Every registered meeting is a key date by its id, so campaigns can follow any meeting.
    for meeting in register.meeting:
        if meeting.id in linked and ctx.index.find(meeting.id) is not None:
            continue
        ctx.index.add(
            KeyDate(
                key=meeting.id,
                name=meeting.name,
                kind="congress-session" if meeting.body == "congress" else "sc-meeting",
                start=meeting.start,
                end=meeting.end,
                meeting=meeting.id,
                source=REGISTER_FILE,
            )
        )


def _occurrences(
    ctx: _Context, reader: _Reader, spec: CampaignFile, start: date, end: date
) -> tuple[list[cad.Occurrence], cad.Countdown | None]:
    c = spec.cadence
    if isinstance(c, WeeklyCadence):
        return cad.weekly(start, end, c.weekdays, c.times), None
    if isinstance(c, DailyCadence):
        return cad.daily(start, end, c.times), None
    if isinstance(c, CountdownCadence):
        target = end
        name = str(spec.window.end) if spec.window else ""
        ref = c.to if c.to is not None else (spec.window.end if spec.window else None)
        if c.to is not None:
            resolved = ctx.resolve(reader, c.to, spec.year, ("cadence", "to"))
            if resolved is None:
                return [], None
            target = resolved
        if isinstance(ref, str):
            name = _ref_name(ctx, ref)
        return cad.daily(start, end, c.times), cad.Countdown(target, name)
    assert isinstance(c, OnceCadence)
    found: list[cad.Occurrence] = []
    for i, s in enumerate(c.slots):
        day = ctx.resolve(reader, s.on, spec.year, ("cadence", "slots", i, "on"))
        if day is None:
            continue
        if spec.window is not None and not start <= day <= end:
            ctx.problems.append(
                reader.problem(
                    f"一次性时段 {day} 不在窗口 {start} – {end} 内 / one-off slot {day} lies outside the window",
                    ("cadence", "slots", i, "on"),
                )
            )
        found.append(cad.Occurrence(day, s.time, s.label))
    # Numbered in time order, so listing one-off slots out of order in the file changes nothing.
    found.sort(key=lambda o: (o.day, o.at))
    return found, None


def _ref_name(ctx: _Context, ref: str) -> str:
    text = ref.strip()
    item = ctx.index.find(text) or ctx.index.find(text.rsplit(".", 1)[0])
    return item.name if item is not None else text


def _column_key(ctx: _Context, reader: _Reader, name: str) -> str | None:
    found = ctx.newsroom.settings.column(name)
    if found is not None:
        return found.key
    keys = [c.key for c in ctx.newsroom.settings.columns]
    names = [c.name for c in ctx.newsroom.settings.columns]
    ctx.problems.append(
        reader.problem(
            f"未知栏目 / unknown column {name!r}{did_you_mean(name, keys + names)} "
            f"(publisher.toml declares: {', '.join(keys)})",
            ("column",),
        )
    )
    return None


def _names_in_broken_file(ctx: _Context, reader: _Reader, path: Path) -> None:
    """A campaign that failed its model still names a column and channels: check them in this round."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return
    column, channels = data.get("column"), data.get("channels")
    if isinstance(column, str):
        _column_key(ctx, reader, column)
    if isinstance(channels, list) and all(isinstance(c, str) for c in channels):
        ctx.check_channels(reader, channels, ("channels",))


def _campaign(
    ctx: _Context,
    path: Path,
    calendar: WorkingCalendar,
    newsroom_windows: tuple[Window, ...],
) -> tuple[Campaign, list[Slot], set[int]] | None:
    spec, reader = _read(path, ctx.newsroom.root, CampaignFile, ctx.problems)
    key = path.stem
    if reader is not None and not _KEY.match(key):
        ctx.problems.append(
            reader.problem(
                "战役文件名须为小写 ASCII 单词以连字符连接 / file name must be lower-case ASCII words joined by '-'"
            )
        )
        return None
    if spec is None or reader is None:
        if reader is not None:
            _names_in_broken_file(ctx, reader, path)
        return None
    before = len(ctx.problems)
    column = _column_key(ctx, reader, spec.column) if spec.column is not None else None
    ctx.check_channels(reader, spec.channels, ("channels",))
    if spec.label is not None:
        try:
            spec.label.format(name="", number=1, date="", days=1)
        except (KeyError, IndexError, ValueError) as exc:
            ctx.problems.append(
                reader.problem(
                    f"标签模板只能用 {{name}} {{number}} {{date}} {{days}} / label template: bad field {exc}",
                    ("label",),
                )
            )

    if spec.window is not None:
        start = ctx.resolve(reader, spec.window.start, spec.year, ("window", "start"))
        end = ctx.resolve(reader, spec.window.end, spec.year, ("window", "end"))
    else:
        start = end = None
    if start is not None and end is not None:
        if end < start:
            ctx.problems.append(
                reader.problem(
                    f"窗口结束 {end} 早于开始 {start} / the window ends before it starts", ("window", "end")
                )
            )
        elif (end - start).days > MAX_WINDOW_DAYS:
            ctx.problems.append(
                reader.problem(
                    f"窗口超过三年（{start} – {end}），请检查年份 / the window is longer than three years",
                    ("window", "end"),
                )
            )
    quiet, blackouts = ctx.windows(reader, spec.quiet_hours, spec.blackout, spec.year)
    if len(ctx.problems) > before:
        return None
    if spec.window is None:  # one-off slots only: the window is the span of the slots
        start, end = date.max, date.min
    assert start is not None and end is not None
    occurrences, countdown = _occurrences(ctx, reader, spec, start, end)
    if len(ctx.problems) > before:
        return None
    if spec.window is None and occurrences:
        start, end = occurrences[0].day, occurrences[-1].day
    campaign = Campaign(
        key=key,
        name=spec.name,
        description=spec.description,
        column=column,
        channels=tuple(spec.channels),
        start=start,
        end=end,
        cadence=spec.cadence.kind,
        non_working_day=spec.non_working_day,
        source=reader.source,
        quiet_hours=quiet,
        blackouts=blackouts,
    )
    slots, guessed = cad.expand(
        campaign,
        occurrences,
        tz=ctx.tz,
        calendar=calendar,
        newsroom_windows=newsroom_windows,
        template=spec.label,
        countdown=countdown,
    )
    return campaign, slots, guessed


def load_schedules(newsroom: Newsroom) -> Schedules:
    """Every file in `schedules/`, validated together; raise ConfigError with all problems."""
    problems: list[Problem] = []
    folder = newsroom.schedules_dir
    root = newsroom.root
    ctx = _Context(newsroom, problems)

    try:
        register = load_register(folder, root)
    except ConfigError as exc:
        problems.extend(exc.problems)
        register = MeetingRegister()

    rules: NewsroomRules | None = NewsroomRules()
    rules_reader = _Reader(display_path(folder / RULES_FILE, root), "")
    if (folder / RULES_FILE).is_file():
        rules, read = _read(folder / RULES_FILE, root, NewsroomRules, problems)
        rules_reader = read or rules_reader

    key_dates, kd_reader = None, None
    if (folder / KEY_DATES_FILE).is_file():
        key_dates, kd_reader = _read(folder / KEY_DATES_FILE, root, KeyDatesFile, problems)
    _register_key_dates(ctx, register, key_dates, kd_reader)

    rules = rules or NewsroomRules()
    calendar = WorkingCalendar(rules.calendar)
    quiet, blackouts = ctx.windows(rules_reader, rules.quiet_hours, rules.blackout, None)
    newsroom_windows: tuple[Window, ...] = (*quiet, *blackouts)

    campaigns: dict[str, Campaign] = {}
    all_slots: dict[str, tuple[Slot, ...]] = {}
    guessed_years: dict[str, frozenset[int]] = {}
    campaign_dir = folder / CAMPAIGNS_DIR
    paths = sorted(campaign_dir.glob("*.toml")) if campaign_dir.is_dir() else []
    for path in paths:
        built = _campaign(ctx, path, calendar, newsroom_windows)
        if built is None:
            continue
        campaign, slots, guessed = built
        campaigns[campaign.key] = campaign
        all_slots[campaign.key] = tuple(slots)
        guessed_years[campaign.key] = frozenset(guessed)

    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    warnings = [
        Problem(campaigns[key].source, fallback_warning(year, rules.calendar.fallback), severity="warning")
        for key, years in sorted(guessed_years.items())
        for year in sorted(years)
    ]
    return Schedules(
        campaigns=campaigns,
        paused=rules.paused,
        pause_reason=rules.pause_reason,
        tz=ctx.tz,
        horizon_days=rules.plan.horizon_days,
        key_dates=dict(ctx.index.by_key),
        calendar=calendar,
        windows=newsroom_windows,
        warnings=warnings,
        guessed_years=guessed_years,
        _slots=all_slots,
        inspection=rules.inspection,
    )


def check_schedules(newsroom: Newsroom) -> list[Problem]:
    """For `publisher check`: every problem and warning, nothing raised."""
    try:
        return list(load_schedules(newsroom).warnings)
    except ConfigError as exc:
        return list(exc.problems)
