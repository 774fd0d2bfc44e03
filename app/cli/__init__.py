"""The `hindsight` command: one click group whose subcommands parse, call a service, print.

The commands live beside this module, one module per topic (`db`, `records`,
`rules`, `lint`, `sync`, `tokens`); `COMMANDS` names where each one is, and a
module is imported only when one of its commands runs (or `--help` lists
them), so `hindsight lint` starts without loading the database layer.

`main` is the one place that turns a refusal into one line on stderr and an
exit status, never a traceback:

- 0 done; 1 refused: a `DomainError` (an unknown key, a document that is
  not valid JSON, YAML or UTF-8, invalid fields, each field on an indented
  line of its own) or a check that found a problem;
- 2 bad usage in click's words (a missing file, a directory where a file is
  wanted, a date that is not YYYY-MM-DD, an unknown option), bad settings,
  or a file that cannot be read or written;
- 130 interrupted.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from app.domain.errors import DomainError
from app.settings import SettingsError

# command name -> "module:attribute" of its click command (imported on first use)
COMMANDS = {
    "init-db": "app.cli.db:init_db",
    "serve": "app.cli.db:serve",
    "worker": "app.cli.db:worker",
    "demo": "app.cli.db:demo",
    "import": "app.cli.records:import_file",
    "export": "app.cli.records:export",
    "verify": "app.cli.records:verify",
    "verify-audit": "app.cli.audit:verify_audit",
    "audit": "app.cli.audit:audit_group",
    "keys": "app.cli.keys:keys_group",
    "evaluate": "app.cli.rules:evaluate",
    "lint": "app.cli.lint:lint",
    "sync": "app.cli.sync:sync",
    "token": "app.cli.tokens:token",
    "tokens": "app.cli.tokens:token",
    "user": "app.cli.users:user",
    "deliveries": "app.cli.deliveries:deliveries_group",
    "report": "app.cli.reports:report",
    "digest": "app.cli.digest:digest",
    "search": "app.cli.search:search",
    "schedule": "app.cli.followthrough:schedule",
    "escalations": "app.cli.followthrough:escalations",
    "notifications": "app.cli.followthrough:notifications_group",
}


class _Commands(click.Group):
    """The root group: its commands are `COMMANDS`, each imported when it is named."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module), name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Hindsight: blameless postmortems whose improvement actions get done."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args, prog_name="hindsight", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # `hindsight`, `hindsight sync` alone
        exc.show()
        return exc.exit_code
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "hindsight"
        return _fail(f"{where}: {' '.join(exc.format_message().split())}", exc.exit_code)
    except click.ClickException as exc:
        return _fail(f"hindsight: {exc.format_message()}", exc.exit_code)
    except click.Abort:  # Ctrl-C (click has already ended the line)
        return 130
    except SettingsError as exc:
        return _fail(f"hindsight: {exc}", 2)
    except DomainError as exc:
        fields = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors or []]
        return _fail("\n".join([f"hindsight: {exc.title}: {exc.detail}", *fields]), 1)
    except OSError as exc:  # a file that vanished, a directory, no permission, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"hindsight: {where}{exc.strerror or exc}", 2)
    except UnicodeDecodeError as exc:  # a config file that is not UTF-8
        return _fail(f"hindsight: a file is not UTF-8 ({exc.reason} at byte {exc.start})", 2)
    return result if isinstance(result, int) else 0


def _fail(message: str, status: int) -> int:
    click.echo(message, err=True)
    return status
