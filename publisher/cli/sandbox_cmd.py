"""sandbox: local stand-ins for the outside world (partners now; WeChat may add its own)."""

from __future__ import annotations

import typer

from publisher.cli.sandbox_partner import register_partner

app = typer.Typer(help="本地沙箱 / local sandboxes of outside services.", no_args_is_help=True)
register_partner(app)
