"""``twin serve [--port N] [--users FILE] [--runs DIR] [--address HOST] [--num-procs N] [--catalog FILE]``: the web
dashboard (:mod:`apps.dashboard`).

Every page is behind a sign-in checked against the users file (``--users``, else ``$TWIN_USERS``;
``apps/users.example.toml`` holds demo users, refused on any address but loopback and warned about
there). Binds to localhost unless ``--address`` says otherwise; HTTPS with ``--ssl-certfile`` and
``--ssl-keyfile``. Registered in :mod:`twin.cli` (``register(commands)``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from twin.cli.common import UserError


def cmd_serve(args) -> int:
    from apps.auth import UserBook, UsersFileError, users_file
    from apps.dashboard import CATALOG_ENV, DashboardConfig
    from apps.demo_users import check_demo_users
    from apps.server import serve
    from twin.scenario import builtin_scenarios

    if not 1 <= args.port <= 65535:
        raise UserError(f"--port: {args.port} must be between 1 and 65535")
    if args.num_procs < 0:
        raise UserError(f"--num-procs: {args.num_procs} must be 0 (one per core) or a number of processes")
    try:
        users = UserBook.from_file(users_file(args.users))
        demo_warning = check_demo_users(users, args.address)
    except UsersFileError as error:
        raise UserError(f"--users: {str(error).removeprefix('users: ')}") from None
    if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        raise UserError("--ssl-certfile, --ssl-keyfile: give both (a certificate and its key) or neither")
    for option, path in (("--ssl-certfile", args.ssl_certfile), ("--ssl-keyfile", args.ssl_keyfile)):
        if path is not None and not Path(path).is_file():
            raise UserError(f"{option}: {path!r} is not a file")
    runs = Path(args.runs)
    if runs.exists() and not runs.is_dir():
        raise UserError(f"--runs: {args.runs!r} is not a directory")
    if args.telemetry and args.telemetry_scenario not in builtin_scenarios() and not Path(args.telemetry_scenario).is_file():
        raise UserError(f"--telemetry-scenario: {args.telemetry_scenario!r} is neither a built-in scenario nor a file")
    catalog = args.catalog or os.environ.get(CATALOG_ENV)
    if catalog and not Path(catalog).is_file():
        raise UserError(f"--catalog: {catalog!r} is not a file")
    if demo_warning:
        print(f"twin: warning: {demo_warning}", file=sys.stderr)
    scheme = "https" if args.ssl_certfile else "http"
    print(f"twin: dashboard at {scheme}://{args.address}:{args.port}/ (users from {users.source}, runs from {runs}/ "
          "and the built-in scenarios); Ctrl-C stops it", file=sys.stderr)
    serve(DashboardConfig(runs, users, Path(args.telemetry) if args.telemetry else None, args.telemetry_scenario,
                          Path(catalog).resolve() if catalog else None),
          args.port, args.address, ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile,
          num_procs=args.num_procs)
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``twin serve`` to the ``twin`` command's subparsers."""
    serve = subparsers.add_parser("serve", help="serve the web dashboard (3D view, figures, phase review, what-if)")
    serve.add_argument("--port", type=int, default=5006, help="TCP port (default 5006)")
    serve.add_argument("--address", default="localhost",
                       help="address to listen on (default localhost: this machine only)")
    serve.add_argument("--users", help="users file with hashed passwords (default: $TWIN_USERS); the demo users of "
                       "apps/users.example.toml are refused on any address but loopback")
    serve.add_argument("--ssl-certfile", metavar="PEM", help="serve HTTPS with this certificate (and --ssl-keyfile)")
    serve.add_argument("--ssl-keyfile", metavar="PEM", help="the certificate's private key")
    serve.add_argument("--num-procs", type=int, default=1, metavar="N",
                       help="server processes sharing the port, each page served by one (default 1; 0: one per "
                       "core); a sign-in or sign-out, an alarm acknowledged or a command sent holds in all of them")
    serve.add_argument("--runs", default="out", help="directory of stored runs, *.zarr and *.nc (default out)")
    serve.add_argument("--telemetry", metavar="STORE",
                       help="measurement store the Live tab follows (an ingest server's: twin telemetry serve --store)")
    serve.add_argument("--telemetry-scenario", default="phase1",
                       help="the scenario the telemetry's fleet flies (default phase1)")
    serve.add_argument("--catalog", metavar="FILE",
                       help="element sets (TLE/3LE, OMM) the Constellation tab screens the runs it simulates against "
                       "(default: $TWIN_CATALOG; none: against themselves only)")
    serve.set_defaults(handler=cmd_serve)
    return serve
