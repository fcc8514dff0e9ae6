"""Sign-in for ``panel serve``: the ``--auth-module`` of the dashboard, users from ``$TWIN_USERS``::

    TWIN_USERS=apps/users.example.toml panel serve apps/dashboard.py \
        --auth-module apps/panel_auth.py --cookie-secret SECRET

The same login as ``twin serve`` (:class:`apps.login.PasswordAuthProvider`), in the module form
Bokeh's ``--auth-module`` reads: ``get_user``, ``login_url``, ``LoginHandler``, ``logout_url``,
``LogoutHandler``.
"""

from apps.auth import UserBook, users_file
from apps.login import PasswordAuthProvider

_provider = PasswordAuthProvider(UserBook.from_file(users_file(None)))
get_user = _provider.get_user
login_url = _provider.login_url
LoginHandler = _provider.login_handler
logout_url = _provider.logout_url
LogoutHandler = _provider.logout_handler
