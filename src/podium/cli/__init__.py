"""`podium serve | worker | migrate | demo-class | token | tenant … | client … | janus status`:
the group is in `root`, its commands in `serving` (running Podium) and `access` (who may call
it); importing them registers them."""

from podium.cli import access, serving
from podium.cli.root import main

__all__ = ["access", "main", "serving"]
