"""The subcommands of ``python -m vradam`` that live apart from :mod:`vradam.cli`.

Each module holds one command and imports its study code only when the command runs, so a
bad argument is answered before torch or Optuna load (most also add their subparser,
``add_<name>_parser``; ``train``'s parser is in :mod:`vradam.cli`).
:mod:`vradam.commands.args` holds the parser pieces they share.
"""
