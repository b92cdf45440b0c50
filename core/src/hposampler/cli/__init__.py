"""The ``hposampler`` command line: the command group and one module per command group.

:mod:`~hposampler.cli.base` holds the group and what every command shares;
:mod:`~hposampler.cli.display` how studies are shown. The commands:
:mod:`~hposampler.cli.run` (``run``), :mod:`~hposampler.cli.reading` (``show``,
``studies``, ``export``), :mod:`~hposampler.cli.manage` (``delete``, ``enqueue``,
``copy``), :mod:`~hposampler.cli.seeing` (``plot``), :mod:`~hposampler.cli.plugins` (``list``)
and :mod:`~hposampler.cli.bench`. Plugins add commands through the
``register_commands`` hook (hposampler-views adds ``report``, ``dashboard`` and
``importance``); :class:`~hposampler.cli.base.PluginGroup` lists and runs them.

The command line is the top layer: it may import every other part of hposampler,
and nothing imports it. Commands import what they use when they run, so a core
command starts without loading studies or storage it does not use, and without
loading plugins; ``hposampler --help`` loads the plugin modules (not their heavy
libraries) to list the commands they add.
"""

from __future__ import annotations

import gc

from hposampler.cli.base import main
from hposampler.cli.bench import bench
from hposampler.cli.manage import copy, delete, enqueue
from hposampler.cli.plugins import list_cmd
from hposampler.cli.reading import export, show, studies
from hposampler.cli.run import run
from hposampler.cli.seeing import plot

for _command in (bench, copy, delete, enqueue, export, list_cmd, plot, run, show, studies):
    main.add_command(_command)

__all__ = ["console_main", "main"]


def console_main() -> None:
    """The ``hposampler`` program (its console script and ``python -m hposampler``).

    What is imported by now (hposampler, click, the standard library: objects that
    live as long as the process) is first frozen out of the garbage collector
    (:func:`gc.freeze`), so that no later collection walks it, the one at exit
    included: that collection took some 15 ms of every command and every worker.
    Only the program does this; calling :data:`main` in a process of one's own
    (click's test runner, a notebook) leaves its collector alone.
    """
    gc.freeze()
    main()
