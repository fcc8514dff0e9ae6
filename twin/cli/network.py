"""``twin contacts RUN --station NAME|LAT,LON[,ALT_M] [--sat NAME] [--scenario NAME]``: the pass table of a station.

Stations are looked up by name among those stored in the run (added by :func:`twin.network.flows.add_network`), then
among the stations of ``--scenario`` (or of the run's own scenario); ``LAT,LON[,ALT_M]`` gives any
place (mask ``--min-elevation``, default 0 deg), which is how a TLE run gets its passes.
Registered by :func:`register` on the ``twin`` command's subparsers.
"""

from __future__ import annotations

from twin.cli.common import UserError


def _station(args, run):
    from twin.network.contacts import Station, parse_station, stations_of
    from twin.scenario import ScenarioError, load_scenario

    if "station" in run.coords and args.station in set(run["station"].values.astype(str)):
        chosen = run.sel(station=args.station)
        return Station(args.station, float(chosen["station_latitude"]), float(chosen["station_longitude"]),
                       float(chosen["station_altitude"]), float(chosen["station_min_elevation"]))
    scenario_name = args.scenario or run.attrs.get("scenario_source") or None
    if scenario_name:
        try:
            scenario = load_scenario(scenario_name)
        except ScenarioError as error:
            if args.scenario:
                raise UserError(str(error)) from None
            scenario = None
        if scenario is not None:
            for station in stations_of(scenario):
                if station.name == args.station:
                    return station
    try:
        return parse_station(args.station, args.min_elevation)
    except ValueError as error:
        raise UserError(f"--station: {args.station!r} is neither a station of the run or scenario nor LAT,LON[,ALT_M]"
                        if "neither" in str(error) else f"--station: {error}") from None


def pass_table(passes) -> str:
    """Passes (:func:`twin.network.contacts.contact_windows`) as text: one line per pass."""
    header = f"{'satellite':<14} {'acquisition (UTC)':<21} {'culmination (UTC)':<21} {'loss (UTC)':<21} {'duration':>9} {'max el':>7}"
    lines = [header, f"{'':<14} {'':<21} {'':<21} {'':<21} {'s':>9} {'deg':>7}"]
    stamp = lambda value, observed: str(value)[:19].replace("T", " ") + ("" if observed else "*")
    for row in passes.itertuples(index=False):
        lines.append(f"{row.sat:<14} {stamp(row.acquisition, row.acquisition_observed):<21} "
                     f"{stamp(row.culmination, True):<21} {stamp(row.loss, row.loss_observed):<21} "
                     f"{row.duration_s:>9.1f} {row.max_elevation_deg:>7.2f}")
    if not (passes["acquisition_observed"].all() and passes["loss_observed"].all()):
        lines.append("* cut by the start or end of the run")
    return "\n".join(lines)


def cmd_contacts(args) -> int:
    from twin.network.contacts import contact_windows
    from twin.dataset import RunDamagedError, damage_named, open_run

    if not -90.0 <= args.min_elevation <= 90.0:
        raise UserError(f"--min-elevation: {args.min_elevation} is out of range; it must be within -90..90")
    try:
        run = open_run(args.run)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(str(error)) from None
    station = _station(args, run)
    try:
        with damage_named(run, args.run):
            passes = contact_windows(run, [station], sats=[args.sat] if args.sat else None)
    except KeyError:
        raise UserError(f"--sat: {args.sat!r} is not a satellite of this run") from None
    except RunDamagedError as error:
        raise UserError(str(error)) from None
    print(f"{station.name}: {station.latitude_deg:.4f} N, {station.longitude_deg:.4f} E, {station.altitude_m:.0f} m, "
          f"mask {station.min_elevation_deg:g} deg; {len(passes)} passes")
    print(pass_table(passes))
    return 0


def register(subparsers) -> None:
    """Add ``twin contacts`` to the ``twin`` command's subparsers."""
    contacts = subparsers.add_parser("contacts", help="print the passes of a run's satellites over a ground station")
    contacts.add_argument("run", help="a .zarr or .nc written by twin simulate")
    contacts.add_argument("--station", required=True,
                          help="a station of the run or scenario by name, or LAT,LON[,ALT_M] (degrees, metres)")
    contacts.add_argument("--sat", help="only this satellite")
    contacts.add_argument("--scenario", help="take the stations of this scenario (name or .toml), e.g. for a TLE run")
    contacts.add_argument("--min-elevation", type=float, default=0.0,
                          help="elevation mask (deg) for a station given as LAT,LON (default 0)")
    contacts.set_defaults(handler=cmd_contacts)
