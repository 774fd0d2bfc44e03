"""What several commands share: the settings, read when the command runs, and options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import click

from app.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")


def with_settings(command: Callable[Concatenate[Settings, P], R]) -> Callable[P, R]:
    """Pass the settings as the first argument, read when the command runs.

    Read then, not when the group starts, so `hindsight lint --help` works
    even with a bad variable set; a bad value is a `SettingsError` (exit 2).
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(load_settings(), *args, **kwargs)

    return run


host_option = click.option("--host", help="address to listen on (default HINDSIGHT_HOST)")
port_option = click.option(
    "--port", type=click.IntRange(1, 65535), help="port to listen on (default HINDSIGHT_PORT)"
)
