"""The subcommands of ``python -m vradam`` that live apart from :mod:`vradam.cli`.

Each module adds one subparser (``add_<name>_parser``) and imports its study code only when
the command runs, so a bad argument is answered before torch or Optuna load.
:mod:`vradam.commands.args` holds the parser pieces they share.
"""
