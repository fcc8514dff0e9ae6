"""Where the files shipped with the twin are: ``assets/`` in a checkout, ``twin/_assets/`` in an installed wheel.

>>> asset_path("scenarios", "phase1.toml").is_file()
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def asset_path(*parts: str) -> Path:
    """The path of a shipped file or folder, e.g. ``asset_path("scenarios", "phase1.toml")``.

    The package is installed as plain files (never zipped), so the path can be opened and listed.
    """
    return Path(str(files("twin._assets").joinpath(*parts)))
