"""Make catalog-subset-2026-03-19.tle from the shared catalogue (see README.md beside this file).

Run from the repository: python tests/data/make_catalog_subset.py ../shared/data/catalog-active-2026-03-19.tle
"""

import sys
from pathlib import Path

from sgp4.api import WGS72, Satrec


def main(path: str) -> None:
    source = Path(path).read_text().splitlines()
    kept, deep = [], []
    for index in range(0, len(source), 3):
        name, line1, line2 = source[index:index + 3]
        satrec = Satrec.twoline2rv(line1, line2, WGS72)
        perigee_km, apogee_km = (satrec.altp * satrec.radiusearthkm, satrec.alta * satrec.radiusearthkm)
        if satrec.method == "d" and len(deep) < 3:
            deep.append((name, line1, line2))
        elif perigee_km < 900.0 and apogee_km > 600.0:
            kept.append((name, line1, line2))
    out = Path(__file__).with_name("catalog-subset-2026-03-19.tle")
    out.write_text("".join(f"{name}\n{line1}\n{line2}\n" for name, line1, line2 in kept + deep))
    print(f"{out}: {len(kept)} objects with perigee below 900 km and apogee above 600 km, and {len(deep)} deep-space objects")


if __name__ == "__main__":
    main(sys.argv[1])
