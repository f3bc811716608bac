"""The ``accelsim`` command line: a click group whose subcommands live one per module.

Subcommands are imported only when invoked, so ``accelsim --help`` stays instant and a command
never pays for another's imports (numba, simpy, matplotlib). Bad input of any kind ends as one
line on stderr and exit code 2; library code raises ``ConfigError`` and never prints.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from accelsim import __version__
from accelsim.config.errors import ConfigError

# command name -> (module, attribute, one-line help shown by ``accelsim --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "train": ("accelsim.cli.train", "train", "Train a workload with BP, FA, DFA or a DFA variant."),
    "simulate": ("accelsim.cli.simulate", "simulate", "Simulate one training iteration on a chip."),
    "compare": ("accelsim.cli.simulate", "compare", "BP baseline vs DFA vs pipelined DFA."),
    "scalesim": ("accelsim.cli.scalesim", "scalesim", "SCALE-Sim v3 compatible forward timing."),
    "sweep": ("accelsim.cli.sweep", "sweep", "Run a resumable design-space sweep."),
    "results": ("accelsim.cli.sweep", "results", "Print the rows of a sweep store."),
    "plot": ("accelsim.cli.plot", "plot", "Paper figures from simulations and sweep stores."),
    "study": ("accelsim.cli.study", "study", "Accuracy x hardware cost: time/energy to accuracy."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _, _) in COMMANDS.items() if _module_exists(module)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="accelsim")
def cli() -> None:
    """accelsim: what a training algorithm costs on silicon, and what accuracy it buys.

    \b
    Examples:
      accelsim train workloads/mlp_mnist1d.yaml --algorithm dfa
      accelsim compare arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml
      accelsim simulate arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml --json
    """


def fail(message: str) -> None:
    """Report bad input as one line on stderr and exit with code 2."""
    click.echo(f"accelsim: error: {message}", err=True)
    sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="accelsim", standalone_mode=False)
    except ConfigError as err:
        fail(err.message)
    except click.exceptions.UsageError as err:
        hint = f" (see 'accelsim {err.ctx.info_name} --help')" if err.ctx else ""
        if err.ctx and err.ctx.parent is None:
            hint = " (see 'accelsim --help')"
        fail(err.format_message().replace("\n", " ") + hint)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
    except click.ClickException as err:
        fail(err.format_message().replace("\n", " "))
    except BrokenPipeError:
        sys.exit(0)
