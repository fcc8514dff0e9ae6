"""``twin ops status|forecast|command|send|history|ack|shelve``: operating the fleet from its live telemetry store.

Who acts is ``--user``, a user of the users file (``--users`` or ``$TWIN_USERS``, as ``twin serve``): their roles
decide what they may do (:mod:`twin.operations.roles`). The command line runs where the store is, so it trusts
the name it is given, as the store's files trust whoever may write them; the dashboard signs its users in.
Registered by :func:`register` on the ``twin`` command's subparsers.
"""

from __future__ import annotations

import numpy as np

from twin.cli.common import UserError, scenario_of


def _user(args):
    from apps.auth import UserBook, UsersFileError, users_file

    try:
        user = UserBook.from_file(users_file(args.users)).user(args.user)
    except UsersFileError as error:
        raise UserError(f"--users: {str(error).removeprefix('users: ')}") from None
    if user is None:
        raise UserError(f"--user: {args.user!r} is not in the users file")
    return user


def _monitor(args):
    from twin.operations.monitor import FleetMonitor
    from twin.telemetry.store import StoreError, read_state

    try:
        read_state(args.store)
    except StoreError as error:
        raise UserError(str(error)) from None
    return FleetMonitor(args.store, scenario_of(args))


def _refreshed(args):
    monitor = _monitor(args)
    view = monitor.refresh()
    if view.now is None or view.alarms is None:
        raise UserError(f"--store: {args.store!r} holds too little telemetry to assess (less than one reporting interval)")
    return monitor, view


def cmd_status(args) -> int:
    from twin.operations.alarms import SEVERITIES

    _, view = _refreshed(args)
    alarms = view.alarms
    print(f"{args.store}: fleet time {str(view.now)[:19]} UTC; {len(alarms.alarms)} alarms"
          f" ({len(alarms.shelved)} shelved), {sum(not c.done for c in view.commands.values())} commands open")
    if len(alarms.alarms):
        table = alarms.alarms[["satellite", "severity", "since", "symptoms", "summary", "acknowledged_by"]].copy()
        table["since"] = table["since"].astype(str).str[:19]
        print(table.to_string(index=False))
    print("health (sub-center x subsystem):")
    print(alarms.matrix.apply(lambda column: column.map(lambda level: SEVERITIES[level])).to_string())
    return 0


def cmd_forecast(args) -> int:
    from twin.operations.forecast import forecast, live_state

    _, view = _refreshed(args)
    live = live_state(view.live.state, view.live.anomalies, scenario_of(args), view.commands.values())
    try:
        result = forecast(scenario_of(args), live, args.orbits)
    except ValueError as error:
        raise UserError(f"--orbits: {error}") from None
    health = ", ".join(f"{f.target} {f.kind} {f.severity:.2f}" for f in live.faults) or "as designed"
    print(f"forecast from {str(live.start)[:19]} UTC for {args.orbits:g} orbits; health from the telemetry: {health}")
    if result.crossings.empty:
        print("no limit crossed")
        return 0
    table = result.crossings.copy()
    table["crosses_at"] = table["crosses_at"].astype(str).str[:19]
    print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    return 0


def _arguments(pairs: list[str]) -> dict:
    arguments = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UserError(f"argument: {pair!r} is not NAME=VALUE")
        arguments[name] = value
    return arguments


def cmd_command(args) -> int:
    from twin.operations.roles import NotPermitted
    from twin.operations.queue import QueueError
    from twin.telemetry.telecommands import CommandError

    user = _user(args)
    monitor, view = _refreshed(args)
    try:
        if args.prepare:
            command = monitor.queue.prepare(user, args.satellite, args.command, _arguments(args.arguments), view.now,
                                            args.at)
        else:
            command = monitor.queue.submit(user, args.satellite, args.command, _arguments(args.arguments), view.now,
                                           args.at)
    except (NotPermitted, QueueError, CommandError, ValueError) as error:
        raise UserError(str(error)) from None
    print(_command_line(command))
    return 0


def cmd_send(args) -> int:
    from twin.operations.roles import NotPermitted
    from twin.operations.queue import QueueError

    user = _user(args)
    monitor, view = _refreshed(args)
    try:
        command = monitor.queue.send(user, args.command_id, view.now)
    except (NotPermitted, QueueError) as error:
        raise UserError(str(error)) from None
    print(_command_line(command))
    return 0


def _command_line(command) -> str:
    arguments = " ".join(f"{key}={value:g}" for key, value in command.arguments.items())
    where = f" window {command.window[0][:19]} to {command.window[1][:19]}" if command.window else ""
    return (f"{command.command_id} {command.status:<9} {command.satellite} {command.name} {arguments}"
            f"{' at ' + command.release_time[:19] if command.release_time else ''}{where}"
            f"{' (' + command.reason + ')' if command.reason else ''}")


def cmd_history(args) -> int:
    monitor = _monitor(args)
    for event in monitor.queue.history():
        details = {key: value for key, value in event.items() if key not in ("event", "command_id", "at", "clock",
                                                                               "command")}
        print(f"{event['at']}  fleet {str(event['clock'])[:19]}  {event['command_id'] or '-':<7} {event['event']:<9} "
              + " ".join(f"{key}={value}" for key, value in details.items()))
    return 0


def cmd_alarm(args) -> int:
    from twin.operations.roles import NotPermitted
    from twin.timegrid import parse_duration_s

    user = _user(args)
    monitor, view = _refreshed(args)
    known = set(view.alarms.alarms["key"]) | set(view.alarms.shelved["key"])
    if args.satellite not in known:
        raise UserError(f"satellite: {args.satellite!r} has no alarm (alarms: {', '.join(sorted(known)) or 'none'})")
    try:
        if args.alarm_command == "ack":
            monitor.book.acknowledge(user, args.satellite, view.now, view.alarms.symptoms)
            print(f"{args.satellite}: acknowledged by {user.name} through {str(view.now)[:19]}")
        else:
            until = view.now + np.timedelta64(int(parse_duration_s(args.duration, "--for") * 1e9), "ns")
            monitor.book.shelve(user, args.satellite, until, args.reason)
            print(f"{args.satellite}: shelved by {user.name} until {str(until)[:19]}")
    except NotPermitted as error:
        raise UserError(str(error)) from None
    except ValueError as error:
        raise UserError(str(error)) from None
    return 0


def register(commands) -> None:
    ops = commands.add_parser("ops", help="operate the fleet: alarms, forecast, commands (from a live telemetry store)")
    sub = ops.add_subparsers(dest="ops_command", required=True)

    def common(parser, who: bool = False) -> None:
        parser.add_argument("scenario", help="the scenario the fleet flies (built-in name or .toml)")
        parser.add_argument("--store", required=True, help="the measurement store (an ingest server's)")
        if who:
            parser.add_argument("--user", required=True, help="who acts: a user of the users file")
            parser.add_argument("--users", help="users file (default: $TWIN_USERS)")

    status = sub.add_parser("status", help="alarms (one per satellite) and the health matrix")
    common(status)
    status.set_defaults(handler=cmd_status)

    forecast = sub.add_parser("forecast", help="run the twin forward from the live state: what crosses a limit, when")
    common(forecast)
    forecast.add_argument("--orbits", type=float, default=2.0, help="how far ahead, in orbits (default 2)")
    forecast.set_defaults(handler=cmd_forecast)

    command = sub.add_parser("command", help="prepare and send a command (operators) or only prepare it (--prepare)")
    common(command, who=True)
    command.add_argument("satellite", help="the satellite, e.g. CC1-001-03")
    command.add_argument("command", help="set_compute_cap, safe_mode, heaters, payload_restart or manoeuvre")
    command.add_argument("arguments", nargs="*", metavar="NAME=VALUE", help="its arguments, e.g. compute_cap=0.5")
    command.add_argument("--at", help="release time (ISO 8601 UTC): executed on board then (default: on receipt)")
    command.add_argument("--prepare", action="store_true", help="prepare only, for an operator to send (engineers)")
    command.set_defaults(handler=cmd_command)

    send = sub.add_parser("send", help="send a prepared command in its satellite's next window (operators)")
    common(send, who=True)
    send.add_argument("command_id", help="the command's id, e.g. C00003")
    send.set_defaults(handler=cmd_send)

    history = sub.add_parser("history", help="every command event and refusal, with who and when")
    common(history)
    history.set_defaults(handler=cmd_history)

    for name, text in (("ack", "acknowledge a satellite's alarm (operators)"),
                       ("shelve", "hide a satellite's alarm for a while (operators)")):
        alarm = sub.add_parser(name, help=text)
        common(alarm, who=True)
        alarm.add_argument("satellite", help="the satellite whose alarm it is")
        if name == "shelve":
            alarm.add_argument("--for", dest="duration", default="1h", help="how long, by the fleet's clock (default 1h)")
            alarm.add_argument("--reason", default="", help="why, for the others")
        alarm.set_defaults(handler=cmd_alarm, alarm_command=name)
