"""Everything of the red tide plugin that reads or writes the database, by subject:

- ``sea``: areas, stations, samples and the flash-report import, thresholds, series, the map;
- ``levels``: each area's level from its latest counts and what a change sets off (alerts to
  every farm of the area, feeding advice per cage, the ``red_tide.level_changed`` event);
- ``farms``: farms, cages, feeding plans and feedings, the feeding-stop interlock, feeders;
- ``buoys``: hypoxia and FSI alerts from buoy readings;
- ``risk``: the 3-day bloom risk per area;
- ``bulletin``: the morning bulletin;
- ``offline``: delta sync and the KPI;
- ``common``: what they share.

The rest of the plugin (routes, jobs, device kinds, feed, demo) calls what this package
exports.
"""

from __future__ import annotations

from plugins.red_tide.services.bulletin import (
    bulletin_for,
    get_subscription,
    send_bulletins,
    subscribe,
    todays_bulletin,
)
from plugins.red_tide.services.buoys import (
    buoy_readings,
)
from plugins.red_tide.services.farms import (
    create_cage,
    create_farm,
    create_plan,
    delete_plan,
    get_cage,
    get_farm,
    get_feeding,
    give_reason,
    list_advice,
    list_cages,
    list_farms,
    list_feedings,
    list_plans,
    log_feeding,
    record_dispensed,
    update_cage,
    update_farm,
    update_plan,
)
from plugins.red_tide.services.levels import (
    evaluate_areas,
)
from plugins.red_tide.services.offline import (
    changes,
    detection_sites,
)
from plugins.red_tide.services.risk import (
    compute_risks,
)
from plugins.red_tide.services.sea import (
    cage_label,
    create_area,
    create_station,
    geojson,
    import_samples,
    list_areas,
    list_samples,
    list_stations,
    record_sample,
    station_label,
    station_series,
    thresholds_out,
    update_area,
    update_station,
)

__all__ = [
    "bulletin_for",
    "buoy_readings",
    "cage_label",
    "changes",
    "compute_risks",
    "create_area",
    "create_cage",
    "create_farm",
    "create_plan",
    "create_station",
    "delete_plan",
    "detection_sites",
    "evaluate_areas",
    "geojson",
    "get_cage",
    "get_farm",
    "get_feeding",
    "get_subscription",
    "give_reason",
    "import_samples",
    "list_advice",
    "list_areas",
    "list_cages",
    "list_farms",
    "list_feedings",
    "list_plans",
    "list_samples",
    "list_stations",
    "log_feeding",
    "record_dispensed",
    "record_sample",
    "send_bulletins",
    "station_label",
    "station_series",
    "subscribe",
    "thresholds_out",
    "todays_bulletin",
    "update_area",
    "update_cage",
    "update_farm",
    "update_plan",
    "update_station",
]
