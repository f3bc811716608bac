"""Options several commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable

import click

from accelsim.config.training import WEIGHT_DELAYS


def weight_delay_option(help_text: str) -> Callable:
    """``--weight-delay {0,1}``: pdfa's weight delay (``training.weight_delay``)."""
    return click.option(
        "--weight-delay",
        type=click.IntRange(min(WEIGHT_DELAYS), max(WEIGHT_DELAYS)),
        default=None,
        metavar="{0,1}",
        help=help_text,
    )
