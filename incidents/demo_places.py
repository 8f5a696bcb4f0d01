"""Towns, roads and border crossings of three mission areas, for the demo data set.

Coordinates are approximate town centres (WGS 84, latitude then longitude), good to a few
kilometres: enough to make demo seizures fall along the roads where patrols and checkpoints
really are, not to navigate by. Roads are chains of towns; a seizure drawn on a road lies
somewhere between two consecutive towns.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoMission:
    name: str
    acronym: str
    host_country: str
    towns: dict[str, tuple[float, float]]
    roads: list[list[str]]
    border_crossings: list[str]
    # (name, contributing country, kind, base town)
    contingents: list[tuple[str, str, str, str]] = field(default_factory=list)


MISSIONS = [
    DemoMission(
        name="Multidimensional Integrated Stabilization Mission in the Central African Republic",
        acronym="MINUSCA",
        host_country="CAF",
        towns={
            "Bangui": (4.394, 18.558),
            "Damara": (4.960, 18.700),
            "Sibut": (5.720, 19.080),
            "Kaga-Bandoro": (6.990, 19.180),
            "Ndélé": (8.410, 20.650),
            "Birao": (10.280, 22.780),
            "Grimari": (5.730, 20.050),
            "Bambari": (5.760, 20.670),
            "Ippy": (6.260, 21.220),
            "Bria": (6.540, 21.990),
            "Alindao": (5.030, 21.210),
            "Kembé": (4.600, 21.900),
            "Bangassou": (4.740, 22.820),
            "Zemio": (5.030, 25.140),
            "Obo": (5.400, 26.490),
            "Boali": (4.800, 18.120),
            "Bossembélé": (5.270, 17.650),
            "Yaloké": (5.320, 17.090),
            "Bouar": (5.930, 15.600),
            "Baboua": (5.790, 14.820),
            "Beloko": (5.920, 14.620),
            "Bossangoa": (6.490, 17.450),
            "Paoua": (7.240, 16.440),
            "Mbaïki": (3.870, 17.980),
            "Boda": (4.320, 17.470),
            "Berbérati": (4.260, 15.790),
            "Batangafo": (7.300, 18.300),
            "Kabo": (7.700, 18.630),
            "Sido": (8.650, 18.750),
        },
        roads=[
            ["Bangui", "Damara", "Sibut", "Kaga-Bandoro", "Ndélé", "Birao"],
            ["Bangui", "Boali", "Bossembélé", "Yaloké", "Bouar", "Baboua", "Beloko"],
            ["Sibut", "Grimari", "Bambari", "Ippy", "Bria"],
            ["Bambari", "Alindao", "Kembé", "Bangassou", "Zemio", "Obo"],
            ["Bossembélé", "Bossangoa", "Paoua"],
            ["Bangui", "Mbaïki", "Boda", "Berbérati"],
            ["Kaga-Bandoro", "Batangafo", "Kabo", "Sido"],
        ],
        border_crossings=["Beloko", "Sido", "Birao", "Obo", "Bangassou"],
        contingents=[
            ("RWABATT", "RWA", "tcc", "Bangui"),
            ("BANBATT", "BGD", "tcc", "Kaga-Bandoro"),
            ("PAKBATT", "PAK", "tcc", "Bouar"),
            ("ZAMBATT", "ZMB", "tcc", "Ndélé"),
            ("MORBATT", "MAR", "tcc", "Bangassou"),
            ("FPU Senegal", "SEN", "fpu", "Bambari"),
            ("IPO Cameroon", "CMR", "pcc", "Bangui"),
        ],
    ),
    DemoMission(
        name="United Nations Organization Stabilization Mission in the DR Congo",
        acronym="MONUSCO",
        host_country="COD",
        towns={
            "Goma": (-1.680, 29.220),
            "Rutshuru": (-1.190, 29.450),
            "Butembo": (0.140, 29.290),
            "Beni": (0.490, 29.470),
            "Bunia": (1.560, 30.250),
            "Mahagi": (2.310, 30.990),
            "Sake": (-1.570, 29.040),
            "Masisi": (-1.400, 28.820),
            "Kasindi": (0.030, 29.710),
            "Bukavu": (-2.510, 28.860),
            "Uvira": (-3.400, 29.140),
        },
        roads=[
            ["Goma", "Rutshuru", "Butembo", "Beni", "Bunia", "Mahagi"],
            ["Goma", "Sake", "Masisi"],
            ["Beni", "Kasindi"],
            ["Bukavu", "Uvira"],
        ],
        border_crossings=["Kasindi", "Mahagi", "Goma", "Uvira"],
        contingents=[
            ("INDBATT", "IND", "tcc", "Goma"),
            ("NEPBATT", "NPL", "tcc", "Bunia"),
            ("URUBATT", "URY", "tcc", "Bukavu"),
            ("FPU Egypt", "EGY", "fpu", "Beni"),
        ],
    ),
    DemoMission(
        name="United Nations Mission in the Republic of South Sudan",
        acronym="UNMISS",
        host_country="SSD",
        towns={
            "Juba": (4.850, 31.580),
            "Nimule": (3.600, 32.060),
            "Bor": (6.210, 31.560),
            "Yei": (4.090, 30.680),
            "Kaya": (3.530, 30.860),
            "Torit": (4.410, 32.570),
            "Malakal": (9.530, 31.660),
            "Bentiu": (9.230, 29.800),
            "Rumbek": (6.800, 29.680),
            "Wau": (7.700, 28.000),
        },
        roads=[
            ["Nimule", "Juba", "Bor"],
            ["Juba", "Yei", "Kaya"],
            ["Juba", "Torit"],
            ["Wau", "Rumbek", "Bor"],
            ["Bentiu", "Malakal"],
        ],
        border_crossings=["Nimule", "Kaya"],
        contingents=[
            ("CHNBATT", "CHN", "tcc", "Juba"),
            ("RWABATT South Sudan", "RWA", "tcc", "Malakal"),
            ("GHANBATT", "GHA", "tcc", "Wau"),
        ],
    ),
]

# Where traced weapons were diverted from: national stockpiles and end users of the region,
# located at the capital of the State concerned.
DIVERSION_POINTS: dict[str, tuple[float, float]] = {
    "TCD": (12.110, 15.040),
    "SDN": (15.500, 32.560),
    "SSD": (4.850, 31.580),
    "CMR": (3.850, 11.500),
    "UGA": (0.350, 32.580),
    "LBY": (32.890, 13.190),
    "COD": (-4.320, 15.310),
    "CAF": (4.394, 18.558),
    "RWA": (-1.950, 30.060),
}
