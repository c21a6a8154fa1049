"""签发付印: a leader signs off an issue's built proof for the printer. The signature names the
PDF's sha256, so it covers exactly the file the leader was shown: a rebuilt issue (a new edition
after a correction) starts unsigned, and a file changed on disk after its build cannot be signed.

The sign-off is an audit event (`bulletin.sign_off`) and a note in the issue's record beside the
PDF; the record is rewritten only after the event commits, as a build's is.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from publisher.bulletin.build import IssueState, output_paths, record_act
from publisher.errors import PublisherError
from publisher.newsroom import Newsroom
from publisher.site.deploy import write_file


class SignOffRefused(PublisherError):
    pass


def signed_off(state: IssueState) -> dict[str, Any] | None:
    """The sign-off of the issue's current build, or None (never signed, or signed before a rebuild)."""
    record = state.record or {}
    found = record.get("signed_off")
    return found if isinstance(found, dict) and found.get("sha256") == record.get("sha256") else None


def sign_off(room: Newsroom, state: IssueState, actor: str) -> tuple[dict[str, Any], bool]:
    """Sign the built file off for printing; returns the sign-off and whether it is new (a second
    sign-off of the same file changes nothing)."""
    name = f"{state.issue.bulletin.settings.short_title} {state.issue.settings.number}"
    if state.pdf is None or state.record is None:
        raise SignOffRefused(f"{name} 尚未编印，没有可签发的清样 / not built yet: nothing to sign off")
    digest = hashlib.sha256(state.pdf.read_bytes()).hexdigest()
    if digest != state.record.get("sha256"):
        raise SignOffRefused(
            f"{name} 的文件与编印记录不符（文件 {digest[:12]}，记录 {str(state.record.get('sha256'))[:12]}），"
            "请重新编印后再签发 / the file differs from its build record: build it again, then sign off"
        )
    already = signed_off(state)
    if already is not None:
        return already, False
    details = {"sha256": digest, "number": state.issue.settings.number}
    seq, at = record_act(room, state.issue, actor, "bulletin.sign_off", details)
    signature = {"by": actor, "at": at.isoformat(), "sha256": digest, "audit_seq": seq}
    _, record = output_paths(room, state.issue)
    body = {**state.record, "signed_off": signature}
    write_file(record, json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"))
    return signature, True
