"""Write docs/configuration.md from the settings models, so the reference cannot drift from the code.

The models are the truth of what each file accepts; this module walks them (types, defaults,
the comment written beside each field) and renders one Markdown page, every file and every key.
A test compares the page with a fresh rendering, so a setting added without regenerating the
page fails the build. Run `publisher config-docs` or `python -m publisher.configdoc`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from publisher import scaffold_templates as t
from publisher.bulletin.definitions import BulletinFile, IssueFile
from publisher.channels.registry import ChannelFile
from publisher.config import NewsroomSettings
from publisher.delivery.kinds import channel_kinds
from publisher.inspection.settings import InspectionSettings
from publisher.review.checks import SecrecyList, TermList
from publisher.review.leaders import LeaderList
from publisher.review.register import MeetingRegister
from publisher.schedule.model import CampaignFile, KeyDatesFile, NewsroomRules

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@dataclass(frozen=True, slots=True)
class FileDoc:
    path: str
    why: str
    model: type[BaseModel]
    example: str
    prefix: str = ""  # where the model's keys sit in the file, e.g. "settings"


def kind_settings() -> dict[str, type[BaseModel]]:
    """Each registered channel kind's [settings] model (the entry points of `publisher.channel_kinds`)."""
    return {name: kind.settings for name, kind in channel_kinds().items()}


def _files() -> list[FileDoc]:
    columns = t.COLUMN_ENTRY.format(key="news", name="工作动态", description="常委会会议、重要活动和工作动态")
    fields = {
        "name": "江澜人大",
        "full_name": "江澜市人民代表大会常务委员会",
        "city": "江澜市",
        "domain": "www.example-rd.gov.cn",
        "timezone": "Asia/Shanghai",
        "next_year": "2027",
        "npc_session": "4",
    }
    campaign = t.CAMPAIGN_TOML.format(
        column_name="工作动态",
        description="常委会会议、重要活动和工作动态",
        key="news",
        start="2026-12-01",
        end="2027-11-30",
        weekday="mon",
        time="10:00",
    )
    docs = [
        FileDoc(
            "publisher.toml",
            "新闻室设置：名称、时区、数据库、栏目、部门、审核流程、引擎和用户 / the newsroom's settings. "
            "`PUBLISHER_DATABASE_URL` overrides `[database] url`.",
            NewsroomSettings,
            t.PUBLISHER_TOML.format(columns=columns, **fields),
        ),
        FileDoc(
            "channels/<name>.toml",
            "一个渠道账号一个文件，文件名即渠道名 / one channel account per file; the file name is the "
            "channel's name. `[settings]` depends on `kind` (below).",
            ChannelFile,
            t.WEBSITE_TOML.format(**fields),
        ),
    ]
    examples = {
        "website": t.WEBSITE_TOML.format(**fields),
        "feed": t.FEED_TOML.format(**fields),
        "wechat": t.WECHAT_TOML.format(**fields),
        "partner": t.PARTNER_PUSH_TOML + "\n" + t.PARTNER_PULL_TOML,
        "sink": 'kind = "sink"\ntitle = "测试接收端"\n\n[settings]\nurl = "http://127.0.0.1:8730/deliveries"\n',
    }
    for kind, model in sorted(kind_settings().items()):
        docs.append(
            FileDoc(
                f'channels/<name>.toml: kind = "{kind}"',
                (model.__doc__ or "").strip().split("\n")[0] or f"`{kind}` 渠道的 [settings]",
                model,
                examples.get(kind, ""),
                prefix="settings",
            )
        )
    docs += [
        FileDoc(
            "schedules/newsroom.toml",
            "全新闻室的排期规则：紧急暂停、工作日历、静默时段、停发时段 / newsroom-wide scheduling rules.",
            NewsroomRules,
            t.RULES_TOML.format(**fields),
        ),
        FileDoc(
            "schedules/key-dates.toml",
            "专题排期的锚点日期 / the key dates campaigns anchor on.",
            KeyDatesFile,
            t.KEY_DATES_TOML.format(**fields),
        ),
        FileDoc(
            "schedules/meetings.toml",
            "会议登记簿，会议报道据此核对 / the meeting register meeting reports are checked against.",
            MeetingRegister,
            t.MEETINGS_TOML.format(**fields),
        ),
        FileDoc(
            "schedules/campaigns/<key>.toml",
            "一个专题或栏目的节奏 / one campaign's or column's cadence.",
            CampaignFile,
            campaign,
        ),
        FileDoc(
            "bulletins/<name>.toml",
            "一份印刷版公报（如《常委会公报》），文件名即公报名 / one printed bulletin; the file name is "
            "its name. Its issues lie in bulletins/<name>/.",
            BulletinFile,
            t.BULLETIN_TOML.format(**fields),
        ),
        FileDoc(
            "bulletins/<name>/<YYYY-NN>.toml",
            "一期公报：期号、日期、栏目及其稿件 / one issue: its number, date, and sections of article "
            "slugs (`publisher bulletin build`).",
            IssueFile,
            t.BULLETIN_ISSUE_TOML.format(**fields),
        ),
        FileDoc(
            "review/secrecy.toml",
            "密级和内部标志：带标志的稿件不得对外发布 / secrecy markings: a hard block from external channels.",
            SecrecyList,
            t.SECRECY_TOML,
        ),
        FileDoc(
            "review/terminology.toml",
            "规范用语（含领导同志姓名职务）：审核人须确认的警告 / terminology warnings a reviewer acknowledges.",
            TermList,
            t.TERMINOLOGY_TOML.format(**fields),
        ),
        FileDoc(
            "review/inspection.toml",
            "定期清查的规则与阈值（检查指标的默认值） / the inspection's rules and thresholds.",
            InspectionSettings,
            t.INSPECTION_TOML,
        ),
        FileDoc(
            "review/leaders.toml",
            "领导同志姓名、职务与易错写法 / leaders' names, titles and known wrong forms.",
            LeaderList,
            t.LEADERS_TOML,
        ),
    ]
    return docs


# -- types ---------------------------------------------------------------------------------------------
_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dt.date: "date",
    dt.datetime: "datetime",
    AwareDatetime: "datetime with UTC offset",
    dt.time: "time",
    type(None): "none",
    Any: "any",
}


_PARSED = {
    "_local_time": '"HH:MM"',
    "_weekday": 'weekday ("mon" or "周一")',
    "_month_day": '"MM-DD"',
    "_date_ref": "date or key-date expression",
}


def _parsed(metadata: list[Any]) -> str | None:
    """The schedule model's parsed strings (times, weekdays, date expressions) say so in a validator."""
    for item in metadata:
        func = getattr(item, "func", None)
        if func is not None and func.__name__ in _PARSED:
            return _PARSED[func.__name__]
    return None


def type_name(annotation: Any) -> str:
    """A TOML-minded name for an annotation: `list of string`, `one of "a", "b"`, `table`."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        return _parsed(meta) or type_name(base)
    if origin is Literal:
        return "one of " + ", ".join(json.dumps(a, ensure_ascii=False) for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        shown = " or ".join(dict.fromkeys(type_name(a) for a in members))
        return shown if len(members) == len(get_args(annotation)) else f"{shown} (optional)"
    if origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        inner = args[0] if args else Any
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return "array of tables"
        return f"list of {type_name(inner)}"
    if origin is dict:
        return "table"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


_BOUNDS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤", "min_length": "length ≥", "max_length": "length ≤"}


def field_type(field: FieldInfo) -> str:
    """The type with the constraints the model enforces, e.g. `number, > 0`."""
    named = _parsed(field.metadata)
    if named and type(None) in get_args(field.annotation):
        named += " (optional)"
    shown = named or type_name(field.annotation)
    limits = []
    for item in field.metadata:
        for attr, sign in _BOUNDS.items():
            value = getattr(item, attr, None)
            if value is not None:
                limits.append(f"{sign} {value}")
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            limits.append(f"pattern `{pattern}`")
    return ", ".join([shown, *limits]).replace("|", "\\|")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**必填 / required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(见下 / see below)"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"({len(value)} 项，见示例 / {len(value)} entries, see the example)"
    if value is None or value is PydanticUndefined:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dt.time):
        return f'`"{value.strftime("%H:%M")}"`'
    return f"`{json.dumps(value, ensure_ascii=False, default=str)}`"


def _comment(model: type[BaseModel], name: str, field: FieldInfo) -> str:
    """The field's description, else the comment written beside it (or just above it) in the model."""
    if field.description:
        return field.description
    for klass in model.__mro__:
        if name not in getattr(klass, "__annotations__", {}):
            continue
        try:
            lines = inspect.getsource(klass).splitlines()
        except (OSError, TypeError):
            return ""
        for i, line in enumerate(lines):
            if re.match(rf"^\s+{re.escape(name)}\s*:", line):
                beside = re.search(r"  # (.*)$", line)
                if beside:
                    return beside.group(1).strip()
                above: list[str] = []
                j = i - 1
                while j >= 0 and lines[j].strip().startswith("#"):
                    above.insert(0, lines[j].strip().lstrip("# "))
                    j -= 1
                return " ".join(above)
        return ""
    return ""


def _nested(field: FieldInfo) -> list[type[BaseModel]]:
    def walk(annotation: Any) -> Iterator[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield annotation
            return
        for arg in get_args(annotation):
            yield from walk(arg)

    return list(dict.fromkeys(walk(field.annotation)))


def _written(model: type[BaseModel], name: str) -> str:
    # publisher.toml writes the database URL under [database]; the model keeps it flat for the env.
    return "database.url" if model is NewsroomSettings and name == "database_url" else name


def _is_array(field: FieldInfo) -> bool:
    return get_origin(field.annotation) in (list, tuple) and bool(_nested(field))


def _tables(model: type[BaseModel], path: str, array: bool = False, variant: str = "") -> Iterator[str]:
    rows = []
    below: list[tuple[str, type[BaseModel], bool, str]] = []
    for name, field in model.model_fields.items():
        key = _written(model, name)
        full = f"{path}.{key}" if path else key
        doc = _comment(model, name, field).replace("|", "\\|")
        rows.append(f"| `{key}` | {field_type(field)} | {_default(field)} | {doc} |")
        inner_models = [m for m in _nested(field) if m.model_fields]
        for inner in inner_models:
            tag = inner.model_fields.get("kind")
            # A union told apart by `kind` (a campaign's cadence): one table per kind.
            which = ""
            if len(inner_models) > 1 and tag is not None and get_origin(tag.annotation) is Literal:
                which = f'kind = "{get_args(tag.annotation)[0]}"'
            below.append((full, inner, _is_array(field), which))
    table = f"`[[{path}]]`" if array else f"`[{path}]`"
    heading = table if path else "顶层 / top level"
    yield f"#### {heading}{f' {variant}' if variant else ''}\n"
    yield "| 键 / key | 类型 / type | 默认 / default | 说明 / notes |"
    yield "|---|---|---|---|"
    yield from rows
    yield ""
    for label, inner, is_array, which in below:
        yield from _tables(inner, label, is_array, which)


def render() -> str:
    out = [
        "# 配置参考 / Configuration reference",
        "",
        "<!-- Generated by `publisher config-docs` from the settings models; do not edit by hand. -->",
        "",
        "每个文件、每个键：类型、默认值和说明，由代码中的设置模型生成。未列出的键会被拒绝（拼错的键是错误，"
        "`publisher check` 会指出行号并给出最接近的键名）。时间为新闻室时区的本地时间，数据库中存 UTC。",
        "",
        "Every file and key, its type, default and notes, generated from the settings models. Unknown keys "
        "are refused: `publisher check` names the line and the closest known key. A `*_env` key names the "
        "environment variable that holds a secret; secrets are never written in these files.",
        "",
        "文件 / files:",
        "",
    ]
    files = _files()
    for doc in files:
        anchor = re.sub(r"[^a-z0-9]+", "-", doc.path.lower()).strip("-")
        out.append(f"- [{doc.path}](#{anchor})")
    out.append("")
    for doc in files:
        out += [f"## {doc.path}", "", doc.why, ""]
        out += list(_tables(doc.model, doc.prefix))
        if doc.example:
            out += ["示例 / example:", "", "```toml", doc.example.rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def write(path: Path = DOC) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOC
    print(write(target))
