"""``twin telemetry generate|fly|serve|replay|status|assess|watch``: the fleet's telemetry, from packets to anomalies.

The token that stations present comes from ``--token-file`` or the ``TWIN_TELEMETRY_TOKEN``
environment variable, never from the command line (where ``ps`` would show it).
Registered by :func:`register` on the ``twin`` command's subparsers.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from twin.cli.common import UserError

TOKEN_VARIABLE = "TWIN_TELEMETRY_TOKEN"


def _token(args) -> str:
    if args.token_file:
        path = Path(args.token_file)
        if not path.is_file():
            raise UserError(f"--token-file: {args.token_file!r} does not exist")
        token = path.read_text().strip()
    else:
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token or any(c.isspace() for c in token):
        raise UserError(f"token: give a token without spaces in --token-file or ${TOKEN_VARIABLE}")
    return token


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--to: {text!r} is not HOST:PORT")
    return host, int(port)


def _scenario(name: str):
    from twin.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name)
    except ScenarioError as error:
        raise UserError(str(error)) from None


def cmd_generate(args) -> int:
    from twin.telemetry import virtual_fleet
    from twin.telemetry.client import SenderError, TelemetrySender
    from twin.timegrid import parse_duration_s

    if bool(args.out) == bool(args.to):
        raise UserError("generate: give exactly one of --out FILE or --to HOST:PORT")
    if args.out:
        virtual_fleet.check_recording_target(args.out, args.overwrite)  # refused now, not after simulating
    scenario = _scenario(args.scenario)
    try:
        duration_s = parse_duration_s(args.duration, "--duration")
        start = _start(args.start, scenario)
        faults = [virtual_fleet.InjectedFault.parse(text) for text in args.fault]
        sensors = virtual_fleet.load_sensors()
        truth = virtual_fleet.simulate_truth(scenario, start, duration_s, sensors, faults)
        recording = virtual_fleet.record(truth, sensors, faults, args.seed)
    except ValueError as error:
        raise UserError(str(error)) from None
    packets = recording.manifest["valid_packets"]
    if args.out:
        path = recording.write(args.out, args.overwrite)
        print(f"wrote {path}: {packets} packets, {len(recording.stream)} octets; manifest {path}.json")
        return 0
    try:
        with TelemetrySender(*_address(args.to), _token(args), args.station) as sender:
            acknowledged = virtual_fleet.send(recording, sender, args.speed)
    except SenderError as error:
        raise UserError(str(error)) from None
    print(f"sent {packets:,d} packets ({acknowledged:,d} octets acknowledged) to {args.to} as {args.station}"
          f"{_delivery_text(sender.counts, args.to, args.station, packets)}")
    return 0


def cmd_fly(args) -> int:
    """A live virtual fleet: streams at ``--speed`` and executes the commands uplinked to it."""
    from twin.telemetry import virtual_fleet
    from twin.telemetry.client import SenderError, TelemetrySender
    from twin.telemetry.onboard import LiveFleet
    from twin.timegrid import parse_duration_s

    scenario = _scenario(args.scenario)
    if args.speed <= 0:
        raise UserError(f"--speed: {args.speed:g} must be above 0 for a live fleet")
    try:
        duration_s = parse_duration_s(args.duration, "--duration")
        faults = [virtual_fleet.InjectedFault.parse(text) for text in args.fault]
        fleet = LiveFleet(scenario, _start(args.start, scenario), duration_s, virtual_fleet.load_sensors(), faults,
                          args.seed)
    except ValueError as error:
        raise UserError(str(error)) from None
    print(f"flying {len(fleet.names)} satellites of {scenario.name} from {str(fleet.start64)[:19]} for {args.duration} "
          f"at {args.speed:g} x real time", flush=True)
    try:
        with TelemetrySender(*_address(args.to), _token(args), args.station, on_command=fleet.receive) as sender:
            acknowledged = fleet.fly(sender, args.speed)
    except SenderError as error:
        raise UserError(str(error)) from None
    for event in fleet.events:
        print(f"{event['time']}  {event['command_id']:<8} {event['event']:<16} "
              + " ".join(f"{key}={value}" for key, value in event.items() if key not in ("time", "command_id", "event")))
    print(f"flown: {acknowledged:,d} octets acknowledged by {args.to}")
    return 0


def _delivery_text(counts, to: str, station: str, packets: int | None = None) -> str:
    """What the server did with the packets sent (its COUNTS lines; nothing from a server too old to
    send them); an error if it stored none of them."""
    from twin.telemetry.ingest import FLAGGED, REFUSED

    if not counts:
        return ""
    refused = ", ".join(f"{kind} {counts[kind]:,d}" for kind in REFUSED if counts[kind])
    flagged = ", ".join(f"{kind} {counts[kind]:,d}" for kind in FLAGGED if counts[kind])
    if not counts["stored"] and refused:
        sent = packets if packets is not None else sum(counts[kind] for kind in REFUSED)
        raise UserError(f"{to} stored none of the {sent:,d} packets sent as {station}: refused {refused}")
    return (f": stored {counts['stored']:,d}" + (f" ({flagged})" if flagged else "")
            + f", refused {refused or 'none'}")


def _start(text: str | None, scenario):
    """The scenario epoch, ``now`` (this minute, for live demos with a wall-clock server) or an ISO time."""
    from astropy.time import Time

    from twin.timegrid import parse_time

    if text is None:
        return scenario.epoch
    if text == "now":
        return Time(np.datetime64("now", "m"), scale="utc")
    return parse_time(text, "--start")


def cmd_watch(args) -> int:
    from twin.telemetry.live import LiveAssessment
    from twin.telemetry.store import StoreError
    from twin.timegrid import parse_duration_s

    scenario = _scenario(args.scenario)
    try:
        live = LiveAssessment(args.store, scenario, parse_duration_s(args.window, "--window"))
        interval_s = parse_duration_s(args.every, "--every")
    except ValueError as error:
        raise UserError(str(error)) from None
    active: set[str] = set()  # anomalies shown and still going on
    for _ in range(args.count) if args.count else iter(int, 1):
        try:
            view = live.refresh()
        except StoreError as error:
            raise UserError(str(error)) from None
        for _, row in view.anomalies.iterrows():
            if row["key"] in active:
                continue
            print(f"{str(row['start'])[:19]}  {row['satellite']:<12} {row['variable']:<20} "
                  f"{row['size']:>12.4g} {row['units']:<3} (band {row['band']:g})", flush=True)
        active = set(view.anomalies["key"])
        print(f"-- {view.newest} newest packet; {len(view.anomalies)} anomalies in the last {args.window}", flush=True)
        time.sleep(interval_s)
    return 0


def cmd_serve(args) -> int:
    from twin.telemetry.server import run_server
    from twin.telemetry.store import StoreError
    from twin.timegrid import parse_duration_s

    token = _token(args)
    try:
        options = dict(clock=args.clock, max_future_s=parse_duration_s(args.max_future, "--max-future"),
                       late_after_s=parse_duration_s(args.late_after, "--late-after"),
                       idle_timeout_s=parse_duration_s(args.idle_timeout, "--idle-timeout"),
                       **({} if args.duplicate_index_mb is None else
                          {"duplicate_index_bytes": _megabytes(args.duplicate_index_mb, "--duplicate-index-mb")}))
    except ValueError as error:
        raise UserError(str(error)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")  # on stderr

    def ready(port: int) -> None:
        print(f"listening on {args.host}:{port}, storing into {args.store}", flush=True)

    try:
        run_server(args.store, token, args.host, args.port, ready, **options)
    except (StoreError, OSError) as error:
        raise UserError(str(error)) from None
    return 0


def _megabytes(text: str, option: str) -> int:
    """Octets in ``text`` megabytes (10^6 octets), a positive number."""
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = float("nan")
    if not megabytes > 0 or megabytes == float("inf"):
        raise ValueError(f"{option}: {text!r} is not a positive number of megabytes")
    return int(megabytes * 1e6)


def cmd_replay(args) -> int:
    from twin.telemetry import ingest, store
    from twin.telemetry.client import SenderError, TelemetrySender

    source = Path(args.recording)
    if not source.is_file():
        raise UserError(f"recording: {args.recording!r} does not exist")
    data = source.read_bytes()
    if bool(args.store) == bool(args.to):
        raise UserError("replay: give exactly one of --store PATH or --to HOST:PORT")
    if args.to:
        try:
            with TelemetrySender(*_address(args.to), _token(args), args.station) as sender:
                sender.send(data)
                sender.flush()
        except SenderError as error:
            raise UserError(str(error)) from None
        print(f"replayed {len(data):,d} octets to {args.to} as {args.station}"
              f"{_delivery_text(sender.counts, args.to, args.station)}")
        return 0
    try:
        with store.MeasurementStore(args.store) as measurements:
            stored = ingest.ingest_stream(ingest.Ingestor(measurements, clock="stream"), data, args.station)
    except store.StoreError as error:
        raise UserError(str(error)) from None
    print(f"replayed {source.name}: {stored} packets stored in {args.store}")
    print(status_text(args.store))
    return 0


def status_text(path: str) -> str:
    from twin.telemetry.ingest import FLAGGED, REFUSED
    from twin.telemetry.store import read_state

    state = read_state(path)
    counts, connections = state["counts"], state.get("refused_connections", {})

    def listed(kinds) -> str:
        return ", ".join(f"{kind} {counts[kind]:,d}" for kind in kinds if counts.get(kind)) or "none"

    lines = [f"{path}: {sum(state['rows'].values()):,d} packets in {state['commits']:,d} commits, last {state['updated']}"]
    lines += [f"  {name:<8} {rows:>12,d} packets" for name, rows in state["rows"].items()]
    lines.append(f"  refused packets: {listed(REFUSED)} (not stored)")
    lines.append(f"  flagged packets: {listed(FLAGGED)} (stored)")
    lines.append("  refused connections: " + (", ".join(f"{kind} {count:,d}" for kind, count in sorted(connections.items())
                                                     if count) or "none"))
    lines.append(f"  stations: {', '.join(state['stations']) or 'none yet'}")
    return "\n".join(lines)


def cmd_status(args) -> int:
    from twin.telemetry.store import StoreError

    try:
        print(status_text(args.store))
    except StoreError as error:
        raise UserError(str(error)) from None
    return 0


def cmd_assess(args) -> int:
    from twin.dataset import check_run_target, save
    from twin.telemetry import assimilation, store, virtual_fleet
    from twin.telemetry.anomalies import find_anomalies

    if args.out:
        check_run_target(args.out, args.overwrite)  # refused now, not after assimilating
    scenario = _scenario(args.scenario)
    try:
        groups = {name: group.load() for name, group in store.open_measurements(args.store).items()}
        sensors = virtual_fleet.load_sensors()
        model = assimilation.model_run(scenario, groups, sensors)
        state = assimilation.assimilate(model, groups, sensors)
    except (store.StoreError, assimilation.AssimilationError) as error:
        raise UserError(str(error)) from None
    anomalies = find_anomalies(state, sensors)
    print(f"{args.store}: {state.sizes['sat']} satellites, {state['time'].values[0]} to {state['time'].values[-1]}")
    print(f"{len(anomalies)} anomalies" + (":" if len(anomalies) else ""))
    if len(anomalies):
        print(anomalies.to_string(index=False))
    if args.fit_orbits:
        print(orbit_fit_text(scenario, state, anomalies))
    if args.out:
        save(state, args.out, args.overwrite)
        print(f"wrote {args.out}")
    return 0


def orbit_fit_text(scenario, state, anomalies) -> str:
    """The orbits re-estimated from GNSS fixes (:func:`twin.telemetry.orbit_update.reestimate_orbits`), as text."""
    from twin.telemetry.orbit_update import reestimate_orbits

    orbits = reestimate_orbits(scenario, state, anomalies)
    if orbits.empty:
        return "orbits: no position anomaly, nothing to re-estimate"
    lines = ["orbits re-estimated from GNSS fixes (SGP4 differential correction):"]
    for row in orbits.itertuples(index=False):
        lines.append(f"  {row.satellite}: {row.fixes_used} fixes since {str(row.since)[:19]}, residual {row.rms_m:.1f} m "
                     f"RMS after the fit, semi-major axis {row.semi_major_axis_change_m:+.1f} m")
        lines.append(f"    {row.tle_line1}\n    {row.tle_line2}")
    return "\n".join(lines)


def register(commands) -> None:
    telemetry = commands.add_parser("telemetry", help="the fleet's packets: generate, serve, replay, assess")
    sub = telemetry.add_subparsers(dest="telemetry_command", required=True)

    def token_options(parser) -> None:
        parser.add_argument("--token-file", help=f"file holding the station token (default: ${TOKEN_VARIABLE})")
        parser.add_argument("--station", default="virtual", help="ground station name sent to the server")

    generate = sub.add_parser("generate", help="simulate the fleet and emit its packets (file or TCP)")
    generate.add_argument("scenario", help="built-in scenario name or a scenario .toml")
    generate.add_argument("--start", help="ISO 8601 UTC start, or 'now' (default: the scenario epoch)")
    generate.add_argument("--duration", default="1h", help="span such as 1h, 24h (default 1h)")
    generate.add_argument("--fault", action="append", default=[], metavar="KIND:TARGET:START[:VALUE]",
                          help="inject a fault, e.g. array_degraded:CC1-001-03:3h:0.4, manoeuvre:CC1-002-01:5h:200 "
                               "(repeatable; kinds satellite_lost, array_degraded, radiator_stuck, manoeuvre, sensor_bias, "
                               "upset_rate)")
    generate.add_argument("--seed", type=int, default=0, help="noise, dropout and delay seed")
    generate.add_argument("--out", help="write the packets to this file (and a .json manifest beside it)")
    generate.add_argument("--overwrite", action="store_true", help="replace the files already at --out")
    generate.add_argument("--to", help="send to an ingest server at HOST:PORT")
    generate.add_argument("--speed", type=float, default=0.0, help="1 real time, 60 a minute per second, 0 as fast as possible")
    token_options(generate)
    generate.set_defaults(handler=cmd_generate)

    fly = sub.add_parser("fly", help="fly a live virtual fleet: stream its packets and execute the commands uplinked to it")
    fly.add_argument("scenario", help="built-in scenario name or a scenario .toml")
    fly.add_argument("--to", required=True, help="the ingest server at HOST:PORT")
    fly.add_argument("--start", help="ISO 8601 UTC start, or 'now' (default: the scenario epoch)")
    fly.add_argument("--duration", default="2h", help="span such as 1h, 6h (default 2h)")
    fly.add_argument("--speed", type=float, default=60.0, help="fleet seconds per second (default 60)")
    fly.add_argument("--fault", action="append", default=[], metavar="KIND:TARGET:START[:VALUE]",
                     help="inject a fault, as for generate (repeatable)")
    fly.add_argument("--seed", type=int, default=0, help="noise, dropout and delay seed")
    token_options(fly)
    fly.set_defaults(handler=cmd_fly)

    serve = sub.add_parser("serve", help="run the ingest server: TCP packets into a measurement store")
    serve.add_argument("--store", required=True, help="measurement store directory (created if missing)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback only)")
    serve.add_argument("--port", type=int, default=5010, help="TCP port (0: any free port)")
    serve.add_argument("--clock", choices=("wall", "stream"), default="wall",
                       help="what 'from the future' is measured against: this computer's UTC clock (live) or the "
                            "stream's own latest time (simulated or recorded streams)")
    serve.add_argument("--max-future", default="300s", help="how far ahead of the clock a time stamp may be")
    serve.add_argument("--late-after", default="1h",
                       help="count a packet as late this far behind the newest (stored; duplicates are "
                            "recognised across the whole store)")
    serve.add_argument("--idle-timeout", default="5min",
                       help="close a station's connection after this long without an octet (it reconnects to send more)")
    serve.add_argument("--duplicate-index-mb",
                       help="memory the duplicate index may hold, in MB (default 256: two hours of phase 3); "
                            "the rest of it is on disk in the store's duplicates/")
    serve.add_argument("--token-file", help=f"file holding the token stations must present (default: ${TOKEN_VARIABLE})")
    serve.set_defaults(handler=cmd_serve)

    replay = sub.add_parser("replay", help="re-run a recorded packet file through the ingest path")
    replay.add_argument("recording", help="a packet file written by 'twin telemetry generate --out'")
    replay.add_argument("--store", help="ingest into this measurement store directly")
    replay.add_argument("--to", help="or send it to an ingest server at HOST:PORT")
    token_options(replay)
    replay.set_defaults(handler=cmd_replay)

    status = sub.add_parser("status", help="packets stored and bad input counted in a measurement store")
    status.add_argument("store")
    status.set_defaults(handler=cmd_status)

    assess = sub.add_parser("assess", help="assimilate a store into the twin: residuals, anomalies, orbits")
    assess.add_argument("scenario", help="the scenario the fleet flies (built-in name or .toml)")
    assess.add_argument("--store", required=True, help="measurement store directory")
    assess.add_argument("--out", help="write the assimilated state (.zarr or .nc)")
    assess.add_argument("--overwrite", action="store_true", help="replace the twin run already at --out")
    assess.add_argument("--fit-orbits", action="store_true",
                        help="re-estimate the orbit of each satellite with a position anomaly from its GNSS fixes")
    assess.set_defaults(handler=cmd_assess)

    watch = sub.add_parser("watch", help="follow a store live: print each new anomaly as the fleet departs from the model")
    watch.add_argument("scenario", help="the scenario the fleet flies (built-in name or .toml)")
    watch.add_argument("--store", required=True, help="measurement store directory (an ingest server's)")
    watch.add_argument("--window", default="1h", help="trailing span assessed at each refresh (default 1h)")
    watch.add_argument("--every", default="10s", help="refresh interval (default 10s)")
    watch.add_argument("--count", type=int, default=0, help="stop after N refreshes (default: run until interrupted)")
    watch.set_defaults(handler=cmd_watch)
