"""consultation: public consultation (征求意见) on draft regulations. The group; each side of the
work registers its commands on it from its own module (staff handling: consultation_staff_cmd)."""

from __future__ import annotations

import typer

from publisher.cli import consultation_staff_cmd

app = typer.Typer(help="征求意见 / public consultation on draft regulations.", no_args_is_help=True)
consultation_staff_cmd.register(app)
