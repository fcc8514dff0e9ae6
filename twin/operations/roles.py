"""Who may do what in operations (ground-control practice): engineers and operators prepare commands, operators send
them and acknowledge or shelve alarms, viewers look. Checked by the operations layer itself, whoever calls it."""

from __future__ import annotations

PERMISSIONS = {  # action -> (roles that may do it, what it is as a sentence fragment)
    "prepare_command": (("engineer", "operator"), "prepare a command"),
    "send_command": (("operator",), "send a command"),
    "acknowledge_alarm": (("operator",), "acknowledge an alarm"),
    "shelve_alarm": (("operator",), "shelve an alarm"),
}


class NotPermitted(PermissionError):
    """A user whose roles do not allow the action."""


def check_permission(user, action: str) -> None:
    """Raise :class:`NotPermitted` unless ``user`` (``.name``, ``.roles``) holds a role allowed to do ``action``."""
    allowed, what = PERMISSIONS[action]
    if not set(user.roles) & set(allowed):
        raise NotPermitted(f"{user.name} ({', '.join(sorted(user.roles)) or 'no role'}) may not {what}: "
                           f"that needs the {' or '.join(allowed)} role")
