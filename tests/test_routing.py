"""Routing and flows: shortest paths and maximum flows against brute force, capacity limits, exact
accounting, outages."""

import dataclasses
import itertools

import numpy as np
import pytest
import xarray as xr

import twin
from twin.network.flows import Outage, add_network, network_report
from twin.network.routing import max_flow, shared_max_flow, shortest_latency


def random_graph(seed, nodes=9, edges=16):
    rng = np.random.default_rng(seed)
    pairs = list(itertools.combinations(range(nodes), 2))
    chosen = rng.choice(len(pairs), edges, replace=False)
    u, v = np.array([pairs[i] for i in chosen]).T
    return u, v, rng.uniform(1.0, 100.0, edges)


def all_simple_paths(u, v, source, target):
    adjacency = {}
    for a, b in zip(u, v):
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    stack = [(source, [source])]
    while stack:
        node, path = stack.pop()
        if node == target:
            yield path
            continue
        for nxt in adjacency.get(node, []):
            if nxt not in path:
                stack.append((nxt, path + [nxt]))


@pytest.mark.parametrize("seed", range(5))
def test_shortest_paths_match_brute_force(seed):
    u, v, weight = random_graph(seed)
    edge = {frozenset((a, b)): w for a, b, w in zip(u, v, weight)}
    latency = shortest_latency(u, v, weight, 9, 0)
    for target in range(1, 9):
        paths = list(all_simple_paths(u, v, 0, target))
        if not paths:
            assert np.isinf(latency[target])
            continue
        assert latency[target] == pytest.approx(min(sum(edge[frozenset(p)] for p in itertools.pairwise(path))
                                                    for path in paths))


@pytest.mark.parametrize("seed", range(6))
def test_max_flow_is_the_minimum_cut(seed):
    """Max-flow min-cut (Ford and Fulkerson 1956): the flow's value equals the smallest capacity of edges
    leaving a set that holds the source and not the sink, found here by trying every such set."""
    rng = np.random.default_rng(seed)
    nodes, source, sink = 7, 0, 6
    pairs = [(a, b) for a in range(nodes) for b in range(nodes) if a != b]
    chosen = rng.choice(len(pairs), 18, replace=False)
    u, v = np.array([pairs[i] for i in chosen]).T
    capacity = rng.integers(1, 50, u.size).astype(float) * 1e9  # bits in a step: Gbit, as the network's
    flow = max_flow(u, v, capacity, nodes, source, sink)
    assert (flow >= 0).all() and (flow <= capacity).all()
    net = np.zeros(nodes)
    np.add.at(net, u, -flow)
    np.add.at(net, v, flow)
    np.testing.assert_allclose(net[1:-1], 0.0, atol=1.0)  # conserved at every inner node, to a bit
    cuts = []
    for members in itertools.product([False, True], repeat=nodes - 2):
        inside = np.array([True, *members, False])
        cuts.append(capacity[inside[u] & ~inside[v]].sum())
    unit = capacity.max() / 2**30  # int32 counting: short by at most a unit per cut edge (46 bits of 43 Gbit here)
    assert min(cuts) - u.size * unit <= net[sink] <= min(cuts) + 1.0


def test_data_spread_over_every_gateway_in_view():
    """Two sub-centers linked to each other, each in view of its own station: both passes carry data, so the
    pair sends the sum of the two gateway rates (a single widest tree would use one gateway only)."""
    # nodes: 0, 1 chiefs; 2, 3 stations; 4 ground; 5 the sub-centers' source
    u = np.array([0, 1, 0, 1, 2, 3, 5, 5])
    v = np.array([1, 0, 2, 3, 4, 4, 0, 1])
    capacity = np.array([1e12, 1e12, 7.2e10, 3.6e10, np.inf, np.inf, 2e11, 1e9])
    flow = max_flow(u, v, capacity, 6, 5, 4)
    assert flow[-2:].sum() == pytest.approx(7.2e10 + 3.6e10, abs=2 * 1e12 / 2**30)  # to two counting units (1 kbit)
    assert flow[2] <= 7.2e10 and flow[3] <= 3.6e10


def test_a_shared_gateway_serves_every_sub_center_in_proportion():
    """Two sub-centers behind one 10 Gbit gateway, holding 30 and 10 Gbit: a maximum flow alone may send one
    and starve the other; shared, they get 7.5 and 2.5 Gbit, the same quarter of what each holds."""
    # nodes: 0, 1 chiefs (linked); 2 station; 3 ground; 4 the sub-centers' source
    u, v = np.array([0, 1, 0, 2, 4, 4]), np.array([1, 0, 2, 3, 0, 1])
    capacity = np.array([1e12, 1e12, 1e10, np.inf, 3e10, 1e10])
    flow = shared_max_flow(u, v, capacity, 5, 4, 3, slice(4, None), bottleneck=1e10)
    np.testing.assert_allclose(flow[4:], [7.5e9, 2.5e9], rtol=1e-6)
    assert flow[2] <= 1e10
    # Where the shares leave capacity behind (here the second sub-center has no way out), the rest is filled.
    u2, v2 = np.array([0, 4, 4]), np.array([2, 0, 1])
    flow = shared_max_flow(np.r_[u2, 2], np.r_[v2, 3], np.array([1e10, 3e10, 1e10, np.inf]), 5, 4, 3,
                           slice(1, 3), bottleneck=1e10)
    np.testing.assert_allclose(flow[1:3], [1e10, 0.0], atol=1e4)


def test_a_node_cut_from_the_ground_sends_nothing():
    u, v, capacity = np.array([3, 0, 1]), np.array([0, 2, 2]), np.array([np.inf, 5.0, 5.0])  # 1 has no way in
    flow = max_flow(u, v, capacity, 4, 3, 2)
    assert flow.tolist() == [5.0, 5.0, 0.0]


def test_large_capacities_are_rounded_down_never_up():
    """A day-long step over a 100 Gbit/s link is 8.6e15 bits, beyond int32: counted in coarser units, rounded down."""
    u, v, capacity = np.array([0, 1]), np.array([1, 2]), np.array([8.64e15, 8.64e15 - 12345.0])
    flow = max_flow(u, v, capacity, 3, 0, 2)
    assert (flow <= capacity).all() and flow[1] > capacity[1] * (1 - 1e-8)


@pytest.fixture(scope="module")
def network(phase1_run, phase1):
    return add_network(phase1_run, phase1)


def test_accounting_is_exact_at_every_step(phase1_run, phase1):
    # A small buffer forces drops, so every term of in = delivered + queued + dropped is exercised.
    scenario = dataclasses.replace(phase1, links=dataclasses.replace(phase1.links, buffer_bits=2e11,
                                                                     downlink_demand_bps=2e9))
    run = add_network(phase1_run, scenario, outages=[Outage("TL-77E", 3600.0)])
    for direction in ("downlink", "uplink"):
        data_in = run[f"{direction}_data_in"].values
        rest = sum(run[f"{direction}_data_{name}"].values for name in ("delivered", "queued", "dropped"))
        np.testing.assert_allclose(rest, data_in, rtol=1e-12, atol=1.0)  # 1 bit of 1e13
    assert run["downlink_data_dropped"].values[:, -1].sum() > 0
    assert run["downlink_data_delivered"].values[:, -1].sum() > 0


def test_links_never_carry_more_than_their_rate(network):
    up = network["link_up"].values.astype(bool)
    assert (network["link_rate"].values[~up] == 0).all() and (network["link_reverse_rate"].values[~up] == 0).all()
    ground = network["link_kind"].values == "ground"
    served = up[ground].reshape(-1, network.sizes["station"], network.sizes["time"]).sum(axis=0)
    assert (served <= network["station_antennas"].values[:, None]).all()


def test_losing_the_relay_and_a_station_reroutes_and_delays_data(phase1_run, phase1, network):
    lost = add_network(phase1_run, phase1, outages=[Outage("TL-77E", 0.0), Outage("Miyun", 0.0)])
    gone = (lost["link_end_b"] == "TL-77E") | (lost["link_end_b"] == "Miyun")
    assert int(lost["link_up"].values[gone.values].sum()) == 0
    # Traffic that used the relay now goes through Kashi and Sanya when they are in view...
    via_other = (lost["link_up"].values[(lost["link_end_b"].isin(["Kashi", "Sanya"])).values].sum(axis=0) > 0)
    assert via_other.any()
    before, after = network_report(network), network_report(lost)
    # ...and what could not be sent waits: less delivered, more queued, nothing unaccounted.
    assert after["downlink_data_delivered"] < before["downlink_data_delivered"]
    assert after["downlink_data_queued"] > before["downlink_data_queued"]
    assert after["reachable_fraction"] < before["reachable_fraction"]
    for report in (before, after):
        total = report["downlink_data_delivered"] + report["downlink_data_queued"] + report["downlink_data_dropped"]
        assert total == pytest.approx(report["downlink_data_in"], rel=1e-12)


def test_latency_and_command_delay_are_physical(network):
    latency = network["latency_to_ground"].values
    reachable = np.isfinite(latency)
    # Through a station: a few ms of light time (at most 3,300 km slant range, 11 ms) plus hops; through
    # the relay: at least the 35,786 km of the feeder link and the LEO-GEO leg (>= 0.24 s).
    assert 0.001 < np.nanmin(latency) and np.nanmax(latency) < 0.35
    delay = network["command_delay"].values
    np.testing.assert_allclose(delay[reachable], latency[reachable], rtol=1e-6)
    waiting = ~reachable & np.isfinite(delay)
    assert (delay[waiting] > latency[reachable].min()).all()


def test_unknown_outage_and_missing_links_section_are_named(phase1_run, phase1):
    with pytest.raises(ValueError, match=r"outages\[0\].target: 'Atlantis'"):
        add_network(phase1_run, phase1, outages=[Outage("Atlantis", 0.0)])
    with pytest.raises(twin.ScenarioError, match="^links: missing"):
        add_network(phase1_run, dataclasses.replace(phase1, links=None))
    station = dataclasses.replace(phase1.ground_stations[0], downlink_rate_bps=None)
    with pytest.raises(twin.ScenarioError, match=r"^ground_stations\[0\].downlink_rate_bps"):
        add_network(phase1_run, dataclasses.replace(phase1, ground_stations=(station,)))


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_store_and_reopen_is_identical(network, tmp_path, suffix):
    path = twin.save(network, tmp_path / f"net{suffix}")
    xr.testing.assert_identical(network, twin.open_run(path).load())


def test_a_station_lost_in_the_scenario_takes_its_links_down_and_traffic_reroutes():
    """Issue acceptance: losing a ground station or a relay in a fault scenario reroutes traffic, and
    the data delayed or lost shows. Phase 1 for 6 h with Miyun and the relay TL-77E lost at 2 h (Miyun
    alone is absorbed by the other stations and the relay: nothing is delayed): from then on no link
    to either is up, and less data is delivered than with them working, the rest queued or dropped."""
    import copy
    import tomllib

    from twin.scenario import SCENARIO_DIR, ScenarioError, scenario_from_dict

    raw = tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())
    nominal = twin.run_scenario(scenario_from_dict(copy.deepcopy(raw)), duration_s=6 * 3600, step_s=60, network=True)
    raw["faults"] = [{"target": "Miyun", "kind": "station_lost", "start": "2h"},
                     {"target": "TL-77E", "kind": "relay_lost", "start": "2h"}]
    faulty = twin.run_scenario(scenario_from_dict(raw), duration_s=6 * 3600, step_s=60, network=True)
    after = ((faulty["time"] - faulty["time"][0]) / np.timedelta64(1, "s")).values >= 7200
    to_miyun = (faulty["link_end_b"].values == "Miyun") | (faulty["link_end_a"].values == "Miyun")
    assert to_miyun.any()
    assert not faulty["link_up"].values[to_miyun][:, after].any()
    assert faulty["link_up"].values[to_miyun][:, ~after].any() or nominal["link_up"].values[to_miyun][:, ~after].any()
    to_relay = (faulty["link_end_b"].values == "TL-77E") | (faulty["link_end_a"].values == "TL-77E")
    assert not faulty["link_up"].values[to_relay][:, after].any()
    delivered = float(faulty["downlink_data_delivered"].isel(time=-1).sum())
    delivered_nominal = float(nominal["downlink_data_delivered"].isel(time=-1).sum())
    held = float((faulty["downlink_data_queued"] .isel(time=-1) + faulty["downlink_data_dropped"].isel(time=-1)).sum())
    assert delivered < delivered_nominal and held > 0
    # twin report shows it: the downlink line's queued (delayed) and dropped (lost) columns add up to what is held.
    from twin.report.text import report

    downlink = next(line for line in report(faulty).splitlines() if line.startswith("downlink"))
    data_in, delivered_gbit, queued_gbit, dropped_gbit = (float(cell.replace(",", "")) for cell in downlink.split()[1:])
    assert queued_gbit + dropped_gbit == pytest.approx(held / 1e9, abs=2e-3) and queued_gbit + dropped_gbit > 0

    raw["faults"] = [{"target": "Moon", "kind": "station_lost", "start": "2h"}]
    with pytest.raises(ScenarioError, match=r"^faults\[0\]\.target: 'Moon' is not a ground station"):
        scenario_from_dict(raw)


def test_a_station_link_is_up_only_during_a_pass_of_that_satellite(network):
    """Ground links agree with the contact windows (validated against Skyfield in test_contacts.py):
    up only between acquisition and loss, so never beyond the slant range at the 5 deg mask
    (2,675 km at 750 km: sqrt((R + h)^2 - (R cos 5 deg)^2) - R sin 5 deg, R = 6,378 km)."""
    ground = (network["link_kind"] == "ground").values
    up = network["link_up"].values[ground].astype(bool)
    assert up.any()
    assert network["link_range"].values[ground][up].max() < 2_750e3
    times = network["time"].values
    sats, stations = network["link_end_a"].values[ground], network["link_end_b"].values[ground]
    acquisition, loss = network["contact_acquisition"].values, network["contact_loss"].values
    for row, step in zip(*np.nonzero(up)):
        of_pair = (network["contact_sat"].values == sats[row]) & (network["contact_station"].values == stations[row])
        assert ((acquisition[of_pair] <= times[step]) & (times[step] <= loss[of_pair])).any(), (sats[row], stations[row])


def test_relays_are_used_only_above_the_terminal_limit(phase1_run, phase1):
    looking_up = dataclasses.replace(phase1, links=dataclasses.replace(phase1.links, relay_min_elevation_deg=60.0))
    run = add_network(phase1_run, looking_up)
    relay = (run["link_kind"] == "relay").values
    ends_a, relay_names = run["link_end_a"].values[relay], run["link_end_b"].values[relay]
    up = run["link_up"].values[relay].astype(bool)
    # Elevation of the relay above each satellite's horizontal, recomputed from the stored range and geometry.
    from twin.network.contacts import satellite_itrs_m
    from twin.network.links import relay_itrs_m

    rows = np.array([list(run["sat"].values).index(name) for name in ends_a])
    satellite = satellite_itrs_m(run, rows)
    relay_m = relay_itrs_m(run["relay_longitude"].values)[[list(run["relay"].values).index(n) for n in relay_names]]
    to_relay = relay_m[:, None, :] - satellite
    sine = np.einsum("ltk,ltk->lt", to_relay, satellite / np.linalg.norm(satellite, axis=-1, keepdims=True))
    elevation = np.degrees(np.arcsin(sine / np.linalg.norm(to_relay, axis=-1)))
    assert (elevation[up] >= 60.0 - 1e-6).all()
    assert up.sum() < add_network(phase1_run, phase1)["link_up"].values[relay].sum()


def test_the_workload_sends_its_data(phase1_run, phase1):
    """Data in = the fixed demand + bits per FLOP x FLOP served, per sub-center, exactly."""
    run = add_network(phase1_run, phase1)
    links = phase1.links
    step_s = 60.0
    served_flop = (run["compute_throughput"].fillna(0) * run["represents"]).groupby("subcenter").sum() * step_s
    alive_chief = run["alive"].where(run["role"] == "chief").groupby("subcenter").max().fillna(0)
    for direction, demand, per_flop in (("uplink", links.uplink_demand_bps, links.input_bits_per_flop),
                                        ("downlink", links.downlink_demand_bps, links.output_bits_per_flop)):
        expected = (demand * step_s * alive_chief + per_flop * served_flop).isel(time=slice(1, None)).sum("time")
        got = run[f"{direction}_data_in"].isel(time=-1).sel(cluster=expected["subcenter"].values)
        np.testing.assert_allclose(got.values, expected.values, rtol=1e-9)
    assert float(served_flop.sum()) * links.input_bits_per_flop > 1e12  # the workload is a real share of the uplink


def test_command_plan_and_best_paths(network):
    from twin.network.flows import command_windows
    from twin.network.paths import best_path

    plan = command_windows(network)
    assert set(plan.columns) == {"sat", "start", "end", "duration_s", "mean_latency_s", "max_latency_s"}
    reachable = np.isfinite(network["latency_to_ground"].values)
    assert plan["duration_s"].sum() == pytest.approx(reachable.sum() * 60.0)
    window = plan.iloc[0]
    step = int(np.flatnonzero(network["time"].values == window["start"])[0])
    fastest = best_path(network, window["sat"], "ground", step, by="latency")
    assert fastest.nodes[0] == window["sat"] and fastest.nodes[-1] == "ground"
    assert fastest.latency_s == pytest.approx(float(network["latency_to_ground"].values[
        list(network["sat"].values).index(window["sat"]), step]), rel=1e-6)
    widest = best_path(network, window["sat"], "ground", step, by="capacity")
    assert widest.bottleneck_bps >= fastest.bottleneck_bps and widest.latency_s >= fastest.latency_s - 1e-12
    with pytest.raises(ValueError, match="target: 'Atlantis' is not a satellite"):
        best_path(network, window["sat"], "Atlantis", step)


# Earth-observation data from partner satellites, in through the relays (phase 1: eo_inflow_bps = 2e8, one relay).


def relay_connected(run, step):
    """(cluster,): whether each sub-center's chief is joined to a working relay at ``step`` by links up,
    ground links left out (stations neither feed nor forward EO data)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    names = list(run["sat"].values) + list(run["relay"].values)
    index = {name: row for row, name in enumerate(names)}
    use = (run["link_up"].values[:, step] == 1) & (run["link_kind"].values != "ground")
    a = [index[name] for name in run["link_end_a"].values[use]]
    b = [index[name] for name in run["link_end_b"].values[use]]
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(names), len(names)))
    _, label = connected_components(graph, directed=False)
    relay_labels = set(label[[index[name] for name in run["relay"].values]])
    chiefs = run["sat"].values[run["role"].values == "chief"]
    chief_of = dict(zip(run["subcenter"].values[run["role"].values == "chief"], chiefs))
    return np.array([label[index[chief_of[cluster]]] in relay_labels for cluster in run["cluster"].values])


def test_eo_inflow_accounting_is_exact_at_every_step(phase1_run, phase1):
    # A buffer of 200 Gbit fills in 1,000 s at 2e8 bit/s, and the relay is lost after 1 h: EO data are dropped too.
    scenario = dataclasses.replace(phase1, links=dataclasses.replace(phase1.links, buffer_bits=2e11))
    run = add_network(phase1_run, scenario, outages=[Outage("TL-77E", 3600.0)])
    data_in = run["eo_data_in"].values
    rest = sum(run[f"eo_data_{name}"].values for name in ("delivered", "queued", "dropped"))
    np.testing.assert_allclose(rest, data_in, rtol=1e-12, atol=1.0)  # 1 bit of 1e13
    assert run["eo_data_dropped"].values[:, -1].sum() > 0 and run["eo_data_delivered"].values[:, -1].sum() > 0
    # What comes in is eo_inflow_bps per sub-center (every chief is alive), from the second step on.
    np.testing.assert_allclose(data_in[:, -1], 2e8 * 60.0 * (run.sizes["time"] - 1), rtol=1e-12)
    for name in ("in", "delivered", "queued", "dropped"):
        variable = run[f"eo_data_{name}"]
        assert variable.dims == ("cluster", "time") and variable.attrs["units"] == "bit"
        assert variable.attrs["long_name"].startswith("Earth-observation data")


def test_eo_data_wait_while_every_relay_is_lost_and_the_downlink_still_flows(phase1_run, phase1):
    lost_s = 7200.0
    run = add_network(phase1_run, phase1, outages=[Outage(relay.name, lost_s) for relay in phase1.relays])
    after = ((run["time"] - run["time"][0]) / np.timedelta64(1, "s")).values >= lost_s
    relay = run["link_kind"].values == "relay"
    assert not run["link_up"].values[relay][:, after].any()
    delivered, queued = run["eo_data_delivered"].values, run["eo_data_queued"].values
    first = np.flatnonzero(after)[0]
    assert delivered[:, first - 1].sum() > 0  # the relay brought EO data in before it was lost...
    assert (delivered[:, first:] == delivered[:, [first - 1]]).all()  # ...and nothing since
    # Delayed, not vanished: every step adds 2e8 bit/s x 60 s to each queue (the 8e12 bit buffer is far off).
    np.testing.assert_allclose(np.diff(queued[:, first - 1:], axis=1), 2e8 * 60.0, rtol=1e-9)
    assert run["eo_data_dropped"].values[:, -1].sum() == 0
    # The downlink still reaches the ground through the stations.
    downlink = run["downlink_data_delivered"].values
    assert downlink[:, -1].sum() - downlink[:, first - 1].sum() > 1e11  # above 100 Gbit in the 4 h without relay
    report = network_report(run)
    assert report["eo_data_queued"] == pytest.approx(queued[:, -1].sum(), rel=1e-12)
    from twin.report.text import network_lines

    row = next(line for line in network_lines(run).splitlines() if line.startswith("eo inflow"))
    data_in, delivered_gbit, queued_gbit, dropped_gbit = (float(cell.replace(",", "")) for cell in row.split()[2:])
    assert data_in == pytest.approx(report["eo_data_in"] / 1e9, abs=1e-3)
    assert queued_gbit == pytest.approx(report["eo_data_queued"] / 1e9, abs=1e-3) and dropped_gbit == 0


def test_eo_data_arrive_only_over_a_path_through_a_relay(network):
    # One relay with two antennas over the Indian Ocean: each sub-center is cut from it about half the time.
    run = network
    increment = np.diff(run["eo_data_delivered"].values, axis=1)
    connected = np.stack([relay_connected(run, step) for step in range(1, run.sizes["time"])], axis=1)
    assert (~connected).any() and connected.any()
    assert (increment[~connected] == 0).all()
    assert (increment[connected] > 0).any()
    # Whatever arrives fits in the relay's forward links up in that step (2 antennas x 1.2 Gbit/s at most).
    relay = run["link_kind"].values == "relay"
    forward_bits = run["link_reverse_rate"].values[relay].sum(axis=0)[1:] * 60.0
    assert (increment.sum(axis=0) <= forward_bits * (1 + 1e-9)).all()


def test_without_eo_inflow_the_run_has_no_eo_variables(phase1_run, phase1, network):
    """eo_inflow_bps = 0 (the default when [links] omits it): no eo_* variables, no eo row in the report,
    and the downlink and uplink flows are those of the run with an EO inflow (it only uses what they leave)."""
    scenario = dataclasses.replace(phase1, links=dataclasses.replace(phase1.links, eo_inflow_bps=0.0))
    run = add_network(phase1_run, scenario)
    assert not [name for name in run.data_vars if name.startswith("eo_")]
    assert not [key for key in network_report(run) if key.startswith("eo_")]
    from twin.report.text import network_lines

    assert "eo inflow" not in network_lines(run) and "eo inflow" in network_lines(network)
    flows = [f"{direction}_data_{name}" for direction in ("downlink", "uplink")
             for name in ("in", "delivered", "queued", "dropped")]
    xr.testing.assert_identical(run[flows], network[flows])


def test_a_sub_center_without_a_chief_is_named(phase1_run, phase1):
    role = phase1_run["role"].values.copy()
    role[(phase1_run["subcenter"].values == "CC1-002") & (role == "chief")] = "member"
    with pytest.raises(ValueError, match="^subcenter 'CC1-002': has no satellite of role 'chief'"):
        add_network(phase1_run.assign_coords(role=("sat", role)), phase1)


def test_no_laser_link_joins_two_satellites_closer_than_the_safe_separation(network):
    """Phase 1 once had a laser link at 0 km range, up all the time, between EXP-001-01 and CC1-001-01 (one orbit
    slot for two satellites); every satellite-to-satellite link now spans at least 50 m (twin.orbit.separation)."""
    from twin.orbit.separation import MIN_SEPARATION_M

    between = np.isin(network["link_kind"].values, ["intra", "in_plane", "cross_plane"])
    assert between.any()
    assert np.nanmin(network["link_range"].values[between]) >= MIN_SEPARATION_M


def test_a_graph_whose_edges_carry_nothing_has_no_flow():
    """Every capacity rounds to zero units (or is zero): no flow, not scipy's error on an empty matrix."""
    flow = max_flow(np.array([0, 1]), np.array([1, 2]), np.array([0.0, 0.0]), 3, 0, 2)
    assert flow.tolist() == [0.0, 0.0]
