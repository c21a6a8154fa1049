"""The `publisher` command: a thin face over the service layer."""

from __future__ import annotations

import typer

from publisher.cli import (
    articles_cmd,
    audit_cmd,
    backup_cmd,
    console_cmd,
    consultation_cmd,
    core_cmd,
    db_cmd,
    doctor_cmd,
    engine_cmd,
    image_cmd,
    inspect_cmd,
    login_cmd,
    notify_cmd,
    plan_cmd,
    publish_cmd,
    report_cmd,
    review_cmd,
    sandbox_cmd,
    site_cmd,
    supply_cmd,
    users_cmd,
    wechat_cmd,
)

app = typer.Typer(
    name="publisher",
    help="多渠道发布与媒体矩阵排期 / multi-channel publishing with a review chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
core_cmd.register(app)
login_cmd.register(app)
console_cmd.register(app)
doctor_cmd.register(app)
engine_cmd.register(app)
site_cmd.register(app)
inspect_cmd.register(app)
supply_cmd.register(app)
app.add_typer(articles_cmd.app, name="articles")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(db_cmd.app, name="db")
app.add_typer(users_cmd.app, name="users")
app.add_typer(review_cmd.app, name="review")
plan_cmd.register(app)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(wechat_cmd.app, name="wechat")
app.add_typer(image_cmd.app, name="image")
app.add_typer(supply_cmd.app, name="supply")
app.add_typer(report_cmd.app, name="report")
app.add_typer(notify_cmd.app, name="notify")
app.add_typer(consultation_cmd.app, name="consultation")
backup_cmd.register(app)
publish_cmd.register(app)


def main() -> None:
    app()
