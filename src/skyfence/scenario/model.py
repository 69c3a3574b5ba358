"""Scenario and site file: typed, validated, every field documented with units.

The same YAML file is the site configuration for ``track`` and ``run`` (they
ignore ``targets``). Every field below is documented in ``docs/scenarios.md``;
keep the two in step. Units are in the names: ``_m`` metres, ``_s`` seconds,
``_deg`` degrees, ``_mps`` metres per second, ``_dbsm`` dB relative to 1 m².

Frame: ENU metres (x east, y north, z up) around ``site.origin``; sensor and
target ``z`` is height above the (flat) ground at the origin.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KINDS = ("drone", "bird", "aircraft")
"""The one class vocabulary of truth ``kind``, EO/IR ``label`` and track ``class``."""

Vec3 = Annotated[list[float], Field(min_length=3, max_length=3)]
Vec2 = Annotated[list[float], Field(min_length=2, max_length=2)]
PosFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


class Strict(BaseModel):
    """Base: unknown fields are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------- site
class Origin(Strict):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    alt_m: float = 0.0


class Circle(Strict):
    center_enu_m: Annotated[list[float], Field(min_length=2, max_length=3)]
    radius_m: PosFloat


class Zone(Strict):
    name: str
    level: Literal["warning", "critical"]
    circle: Circle | None = None
    polygon: Annotated[list[Vec2], Field(min_length=3)] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Zone:
        if (self.circle is None) == (self.polygon is None):
            raise ValueError("a zone needs exactly one of 'circle' or 'polygon'")
        return self


class Site(Strict):
    origin: Origin
    zones: list[Zone] = []


# ------------------------------------------------------------------ sensors
class RadarSigma(Strict):
    range_m: PosFloat = 10.0
    azimuth_deg: PosFloat = 0.5
    elevation_deg: PosFloat = 1.0
    range_rate_mps: PosFloat = 0.5


class BearingSigma(Strict):
    azimuth_deg: PosFloat = 2.0
    # null: the sensor measures azimuth only and reports elevation_deg: null
    elevation_deg: PosFloat | None = 3.0


class PositionSigma(Strict):
    position_m: PosFloat = 10.0
    velocity_mps: PosFloat = 0.5


class RadarReference(Strict):
    """One point of the radar equation: Pd for a target of rcs_dbsm at range_m."""

    rcs_dbsm: float = -20.0
    range_m: PosFloat = 5000.0
    pd: Annotated[float, Field(gt=0, lt=1)] = 0.9


class Coverage(Strict):
    """Angular field of view. ``fov_az_deg`` 360 means all round."""

    boresight_az_deg: Annotated[float, Field(ge=0, lt=360)] = 0.0
    fov_az_deg: Annotated[float, Field(gt=0, le=360)] = 360.0
    min_elevation_deg: Annotated[float, Field(ge=-90, le=90)] = -10.0
    max_elevation_deg: Annotated[float, Field(ge=-90, le=90)] = 90.0

    @model_validator(mode="after")
    def _ordered(self) -> Coverage:
        if self.min_elevation_deg >= self.max_elevation_deg:
            raise ValueError("min_elevation_deg must be below max_elevation_deg")
        return self


class SensorBase(Strict):
    id: Annotated[str, Field(min_length=1)]
    position_enu_m: Vec3
    period_s: PosFloat = 1.0
    # time of the first report; later reports every period_s
    offset_s: NonNegFloat = 0.0
    max_range_m: PosFloat = 5000.0
    min_range_m: NonNegFloat = 0.0
    pd: Probability = 0.9
    clutter_per_scan: NonNegFloat = 0.0
    coverage: Coverage = Coverage()

    @model_validator(mode="after")
    def _ranges(self) -> SensorBase:
        if self.min_range_m >= self.max_range_m:
            raise ValueError("min_range_m must be below max_range_m")
        return self


class RadarSensor(SensorBase):
    type: Literal["radar"]
    max_range_m: PosFloat = 10000.0
    min_range_m: NonNegFloat = 100.0
    pd: Probability = 0.8
    clutter_per_scan: NonNegFloat = 20.0
    sigma: RadarSigma = RadarSigma()
    # a cone of silence overhead, a little below the horizon for low targets
    coverage: Coverage = Coverage(min_elevation_deg=-5.0, max_elevation_deg=85.0)
    reference: RadarReference = RadarReference()
    pfa: Annotated[float, Field(gt=0, lt=0.1)] = 1e-6
    # effective-earth-radius factor for the radar horizon (4/3: standard refraction)
    k_factor: PosFloat = 4.0 / 3.0
    # clutter: heights uniform in [0, clutter_max_alt_m]; RCS ~ N(mean, sd) in dBsm;
    # a fraction moves (birds, vehicles: |rr| ~ N(0, moving sd)), the rest is static
    clutter_max_alt_m: PosFloat = 300.0
    clutter_rcs_dbsm_mean: float = -18.0
    clutter_rcs_dbsm_sd: NonNegFloat = 6.0
    clutter_moving_fraction: Probability = 0.3
    clutter_moving_sd_mps: NonNegFloat = 8.0
    clutter_static_sd_mps: NonNegFloat = 0.3


class RfSensor(SensorBase):
    type: Literal["rf"]
    pd: Probability = 0.9
    clutter_per_scan: NonNegFloat = 0.1
    sigma: BearingSigma = BearingSigma(azimuth_deg=2.0, elevation_deg=None)


class AcousticSensor(SensorBase):
    type: Literal["acoustic"]
    max_range_m: PosFloat = 500.0
    # manned aircraft are far louder than small drones
    aircraft_max_range_m: PosFloat = 5000.0
    pd: Probability = 0.8
    clutter_per_scan: NonNegFloat = 0.1
    sigma: BearingSigma = BearingSigma(azimuth_deg=3.0, elevation_deg=5.0)
    speed_of_sound_mps: PosFloat = 343.0


DEFAULT_CONFUSION: dict[str, dict[str, float]] = {
    "drone": {"drone": 0.85, "bird": 0.10, "aircraft": 0.05},
    "bird": {"drone": 0.10, "bird": 0.87, "aircraft": 0.03},
    "aircraft": {"drone": 0.03, "bird": 0.02, "aircraft": 0.95},
    "clutter": {"drone": 0.30, "bird": 0.60, "aircraft": 0.10},
}


class EoirSensor(SensorBase):
    type: Literal["eoir"]
    max_range_m: PosFloat = 3000.0
    pd: Probability = 0.9
    clutter_per_scan: NonNegFloat = 0.05
    sigma: BearingSigma = BearingSigma(azimuth_deg=0.1, elevation_deg=0.1)
    # P(label | true kind); the 'clutter' row labels false detections
    confusion: dict[str, dict[str, float]] = DEFAULT_CONFUSION
    # confidence ~ Beta(a, b): one pair when the label is right, one when wrong
    confidence_correct: Annotated[list[PosFloat], Field(min_length=2, max_length=2)] = [8.0, 2.0]
    confidence_wrong: Annotated[list[PosFloat], Field(min_length=2, max_length=2)] = [3.0, 3.0]

    @field_validator("confusion")
    @classmethod
    def _confusion_rows(cls, rows: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        merged = dict(DEFAULT_CONFUSION)
        for true_kind, row in rows.items():
            if true_kind not in (*KINDS, "clutter"):
                allowed = ", ".join((*KINDS, "clutter"))
                raise ValueError(f"row {true_kind!r} is not one of {allowed}")
            bad = sorted(set(row) - set(KINDS))
            if bad:
                raise ValueError(f"row {true_kind!r} has labels {bad} outside {list(KINDS)}")
            if any(p < 0 for p in row.values()):
                raise ValueError(f"row {true_kind!r} has a negative probability")
            total = sum(row.values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"row {true_kind!r} sums to {total:g}, not 1")
            merged[true_kind] = {k: float(row.get(k, 0.0)) for k in KINDS}
        return merged


class AdsbSensor(SensorBase):
    type: Literal["adsb"]
    max_range_m: PosFloat = 250000.0
    pd: Probability = 0.95
    sigma: PositionSigma = PositionSigma(position_m=10.0, velocity_mps=0.5)
    # barometric altitude is broadcast in 25 ft steps
    altitude_step_m: NonNegFloat = 7.62


class RemoteIdSensor(SensorBase):
    type: Literal["remote_id"]
    max_range_m: PosFloat = 2000.0
    pd: Probability = 0.9
    sigma: PositionSigma = PositionSigma(position_m=5.0, velocity_mps=0.3)


Sensor = Annotated[
    RadarSensor | RfSensor | AcousticSensor | EoirSensor | AdsbSensor | RemoteIdSensor,
    Field(discriminator="type"),
]
SENSOR_TYPES = ("radar", "rf", "acoustic", "eoir", "adsb", "remote_id")


# ------------------------------------------------------------------ targets
class RemoteId(Strict):
    uas_id: str | None = None
    # where the operator stands; default: on the ground below the first waypoint
    operator_enu_m: Vec3 | None = None
    # spoofing, to test broadcast-versus-sensor checks: from spoof_start_s (scenario
    # clock) on, the broadcast position is the true position + spoof_offset_enu_m;
    # the broadcast velocity stays the true one. null: an honest broadcast.
    spoof_offset_enu_m: Vec3 | None = None
    spoof_start_s: NonNegFloat = 0.0

    @model_validator(mode="after")
    def _spoof_fields(self) -> RemoteId:
        if self.spoof_offset_enu_m is None:
            if self.spoof_start_s > 0:  # 0 is the default, and what a dump writes
                raise ValueError("spoof_start_s needs spoof_offset_enu_m")
        elif not any(self.spoof_offset_enu_m):
            raise ValueError("spoof_offset_enu_m is [0, 0, 0]: nothing is displaced "
                             "(leave it out for an honest broadcast)")
        return self


class PathTarget(Strict):
    """A target that flies through waypoints, then does ``end``."""

    id: str | None = None
    start_s: NonNegFloat = 0.0
    waypoints_enu_m: Annotated[list[Vec3], Field(min_length=1)]
    speed_mps: PosFloat = 20.0
    # continue: fly on along the last leg; hover: stop at the last waypoint;
    # loiter: orbit the last waypoint; dive: after the last waypoint, dive onto
    # dive_target_enu_m and end on reaching the ground; vanish: end at the last waypoint
    end: Literal["continue", "hover", "loiter", "dive", "vanish"] = "continue"
    loiter_radius_m: PosFloat = 150.0
    dive_target_enu_m: Vec3 | None = None
    dive_speed_mps: PosFloat = 40.0
    max_accel_mps2: PosFloat = 5.0
    # random acceleration (white, per axis) that makes paths less than perfect
    accel_noise_mps2: NonNegFloat = 0.3
    rcs_dbsm: float = -20.0
    # false: nothing is there, only a broadcast (a phantom): no radar, RF, acoustic
    # or EO/IR returns and no truth lines; cooperative receivers still hear it
    physical: bool = True

    @model_validator(mode="after")
    def _dive_needs_target(self) -> PathTarget:
        if self.end == "dive" and self.dive_target_enu_m is None:
            raise ValueError("end: dive needs dive_target_enu_m")
        return self


class DroneTarget(PathTarget):
    type: Literal["drone"]
    rf_link: bool = False
    emitter: str = "ocusync"
    remote_id: RemoteId | None = None

    @model_validator(mode="after")
    def _phantom_broadcasts(self) -> DroneTarget:
        if not self.physical and self.remote_id is None:
            raise ValueError("physical: false needs remote_id (a phantom is only a broadcast)")
        return self


class SwarmTarget(DroneTarget):
    """``count`` drones on one route, launched ``launch_interval_s`` apart."""

    type: Literal["swarm"]  # type: ignore[assignment]
    count: Annotated[int, Field(ge=1, le=100000)] = 13
    launch_interval_s: NonNegFloat = 5.0
    formation: Literal["line", "wedge", "column", "random"] = "random"
    spacing_m: NonNegFloat = 50.0
    # each member's own waypoints are moved by N(0, path_noise_m) per axis (z: a fifth)
    path_noise_m: NonNegFloat = 30.0
    # each member's speed is speed_mps * (1 + N(0, speed_spread))
    speed_spread: NonNegFloat = 0.05


class BirdFlock(Strict):
    type: Literal["bird_flock"]
    id: str | None = None
    start_s: NonNegFloat = 0.0
    count: Annotated[int, Field(ge=1, le=100000)] = 8
    center_enu_m: Vec3
    roam_radius_m: PosFloat = 500.0
    spread_m: PosFloat = 30.0
    speed_mps: PosFloat = 9.0
    accel_noise_mps2: NonNegFloat = 2.0
    rcs_dbsm: float = -25.0


class AircraftTarget(PathTarget):
    type: Literal["aircraft"]
    speed_mps: PosFloat = 70.0
    max_accel_mps2: PosFloat = 3.0
    accel_noise_mps2: NonNegFloat = 0.05
    rcs_dbsm: float = 10.0
    adsb: bool = True
    icao: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{6}$")] | None = None
    callsign: str | None = None

    @model_validator(mode="after")
    def _phantom_broadcasts(self) -> AircraftTarget:
        if not self.physical and not self.adsb:
            raise ValueError("physical: false needs adsb: true (a phantom is only a broadcast)")
        return self


Target = Annotated[
    DroneTarget | SwarmTarget | BirdFlock | AircraftTarget, Field(discriminator="type")
]


# ------------------------------------------------------- live feeds in and out
Port = Annotated[int, Field(ge=1, le=65535)]

SOURCE_SENSOR_TYPE = {"adsb-beast": "adsb", "adsb-avr": "adsb", "asterix": "radar",
                      "remoteid": "remote_id"}
"""The sensor type each feed format's measurements are (sapient: per node)."""

UUID_PATTERN = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"

DEFAULT_PORT = {"adsb-beast": 30005, "adsb-avr": 30002, "sapient": 5020, "cot": 6969}


class FeedIn(Strict):
    """A live feed ``skyfence run`` reads (docs/formats/): ADS-B Beast/AVR as a TCP client
    of a receiver (dump1090/readsb), ASTERIX as UDP datagrams to ``port``, Remote ID
    as UDP datagrams of received frames, SAPIENT as a TCP server sensor nodes connect to."""

    format: Literal["adsb-beast", "adsb-avr", "asterix", "remoteid", "sapient"]
    # the site sensor whose measurements this feed carries (sapient: nodes not in `nodes`)
    sensor: str | None = None
    host: str = "127.0.0.1"  # receiver address (tcp client) or address to listen on
    port: Port | None = None  # default: 30005 beast, 30002 avr, 5020 sapient
    # sapient: node_id (UUID) -> site sensor id
    nodes: dict[str, str] = {}
    # asterix: "SAC/SIC" -> site radar id, for a feed carrying several radars (records
    # of radars not listed are counted and dropped); empty: `sensor` is the first radar
    radars: dict[Annotated[str, Field(pattern=r"^\d{1,3}/\d{1,3}$")], str] = {}
    # remoteid: what each datagram holds: "message" (a 25-byte message or a message
    # pack), "ble_pdu", or a pcap link type name/number (formats/remoteid_frames.py)
    link: str | int = "message"

    def resolved_port(self) -> int:
        port = self.port if self.port is not None else DEFAULT_PORT.get(self.format)
        if port is None:
            raise ValueError(f"{self.format} feed: port is required")
        return port

    def radar_sources(self) -> dict[tuple[int, int], str]:
        """``radars`` keyed by (SAC, SIC)."""
        return {parse_sac_sic(k): v for k, v in self.radars.items()}


def parse_sac_sic(text: str) -> tuple[int, int]:
    """``"25/201"`` → (25, 201); ValueError naming the text if it is not that."""
    sac, _, sic = text.partition("/")
    try:
        pair = int(sac), int(sic)
    except ValueError:
        raise ValueError(f"{text!r} is not SAC/SIC (two numbers 0-255, e.g. 25/201)") from None
    if not all(0 <= v <= 255 for v in pair):
        raise ValueError(f"{text!r}: SAC and SIC are 0-255")
    return pair


class FeedOut(Strict):
    """Where ``skyfence run`` sends its picture each tick: Cursor on Target over UDP,
    ASTERIX CAT062 over UDP, or SAPIENT to a parent node over TCP."""

    format: Literal["cot", "asterix-cat062", "sapient"]
    host: str = "127.0.0.1"
    port: Port | None = None  # default: 6969 cot, 5020 sapient
    sac: Annotated[int, Field(ge=0, le=255)] = 0  # asterix-cat062 data source id
    sic: Annotated[int, Field(ge=0, le=255)] = 1
    # sapient: skyfence's node id (a UUID) at the parent; default: one derived from the
    # site name, the same at every start
    node_id: Annotated[str, Field(pattern=UUID_PATTERN)] | None = None

    def resolved_port(self) -> int:
        port = self.port if self.port is not None else DEFAULT_PORT.get(self.format)
        if port is None:
            raise ValueError(f"{self.format} output: port is required")
        return port


# ----------------------------------------------------------------- scenario
class Scenario(Strict):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    duration_s: PosFloat
    truth_period_s: PosFloat = 1.0
    site: Site
    sensors: list[Sensor] = []
    targets: list[Target] = []
    sources: list[FeedIn] = []  # live feeds for `skyfence run` (none: simulate the targets)
    outputs: list[FeedOut] = []

    @model_validator(mode="after")
    def _feeds_name_sensors(self) -> Scenario:
        types = {s.id: s.type for s in self.sensors}
        problems = []
        for k, feed in enumerate(self.sources):
            where = f"sources.{k} ({feed.format})"
            named = [feed.sensor] if feed.sensor is not None else []
            if feed.format != "sapient" and not named and not feed.radars:
                problems.append(f"{where}: sensor is required")
            for sid in [*named, *feed.nodes.values(), *feed.radars.values()]:
                want = SOURCE_SENSOR_TYPE.get(feed.format)
                if sid not in types:
                    problems.append(f"{where}: no sensor {sid!r} in sensors")
                elif want is not None and types[sid] != want:
                    problems.append(f"{where}: sensor {sid!r} is {types[sid]}, not {want}")
            if feed.format in ("asterix", "remoteid") and feed.port is None:
                problems.append(f"{where}: port is required")
            for key in feed.radars:
                try:
                    parse_sac_sic(key)
                except ValueError as exc:
                    problems.append(f"{where}: radars: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> Scenario:
        for what, ids in (
            ("sensor", [s.id for s in self.sensors]),
            ("target", [t.id for t in self.targets if t.id is not None]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{what} ids must be unique; repeated: {', '.join(dupes)}")
        return self
