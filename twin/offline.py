"""Keep astropy offline, with a deliberate policy for dates past the IERS tables.

The twin runs on machines and ground segments with no internet. Importing :mod:`twin` applies
this policy before anything touches astropy time scales:

* no downloads of any kind (IERS-A, leap seconds, ephemerides);
* the Earth orientation tables bundled in ``astropy-iers-data`` are used as they are, however old;
* UTC past the leap-second table assumes no new leap second: ERFA calls such years "dubious"
  and the twin silences exactly that message (an unannounced leap second shifts UTC by 1 s);
* beyond their last predicted day, UT1-UTC keeps its last predicted value (it never exceeds 0.9 s,
  about 0.4 km along the equator) and polar motion takes astropy's 50-year mean (about 10 m). A
  2035 simulation is therefore exact in the inertial frame and good to about half a kilometre in
  Earth-fixed longitude, and says so in its dataset attributes (:func:`earth_orientation_note`)
  instead of warning at every step about something nobody can act on.
"""

import warnings

import erfa

from astropy.utils import data as astropy_data
from astropy.utils import iers

# The message astropy raises for polar motion past its tables, filtered where we ask for it.
POLAR_MOTION_WARNING = "Tried to get polar motions for times after IERS data is valid"
DUBIOUS_YEAR_WARNING = r'ERFA function "\w+" yielded .*dubious year'



def apply_offline_policy() -> None:
    """Configure astropy never to download and to use its bundled tables quietly."""
    iers.conf.auto_download = False
    iers.conf.auto_max_age = None
    iers.conf.iers_degraded_accuracy = "ignore"
    astropy_data.conf.allow_internet = False
    warnings.filterwarnings("ignore", message=POLAR_MOTION_WARNING)
    warnings.filterwarnings("ignore", message=DUBIOUS_YEAR_WARNING, category=erfa.ErfaWarning)


def iers_predictions_end_iso() -> str:
    """Last day (ISO date) for which the bundled tables give Earth orientation."""
    table = iers.earth_orientation_table.get()
    from astropy.time import Time

    return Time(table["MJD"][-1], format="mjd").strftime("%Y-%m-%d")


def earth_orientation_note() -> str:
    """One line for dataset attributes that says how Earth orientation was obtained."""
    return (
        f"IERS tables bundled with astropy, predictions to {iers_predictions_end_iso()}; "
        "later dates hold UT1-UTC at its last value and polar motion at the 50-year mean"
    )


apply_offline_policy()
