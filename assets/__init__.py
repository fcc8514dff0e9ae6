"""Files shipped with the twin: scenarios, telemetry definitions, textures and TLEs.

Installed as the package ``twin._assets`` (``pyproject.toml`` maps it here); read them through
:func:`twin.assets.asset_path`, which finds them in a checkout and in an installed wheel alike.
"""
