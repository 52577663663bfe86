"""The fixed vocabulary of the demo data: word lists, the plan catalogue, agencies, personas.

Some names carry accents on purpose: search and matching must treat "José" and "jose" alike.
Everything here is independent of the seed, so that reference rows are the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from data.models.commissions import CommissionBasis
from data.models.plans import MetalLevel, PlanKind

FEMALE_FIRST_NAMES = (
    "Abigail", "Aiko", "Alicia", "Amara", "Ana", "Beatriz", "Camille", "Catherine", "Chloé",
    "Claire", "Daniela", "Deborah", "Elena", "Elizabeth", "Emily", "Fatima", "Gabriela",
    "Grace", "Hannah", "Ingrid", "Isabel", "Jasmine", "Jennifer", "Julia", "Karen", "Laura",
    "Leilani", "Linda", "Lucía", "Maria", "Mei", "Michelle", "Mónica", "Nadia", "Natalie",
    "Noémie", "Olivia", "Patricia", "Priya", "Rachel", "Renée", "Rosa", "Sarah", "Siobhán",
    "Sofia", "Stephanie", "Susan", "Tanya", "Valentina", "Yesenia", "Zoë",
)  # fmt: skip

MALE_FIRST_NAMES = (
    "Aaron", "Adrián", "Ahmed", "Andre", "André", "Anthony", "Benjamin", "Björn", "Brian",
    "Carlos", "Christopher", "Daniel", "David", "Diego", "Eduardo", "Emmanuel", "Ethan",
    "François", "Gabriel", "Héctor", "Hiroshi", "Ibrahim", "Isaac", "James", "Jesús",
    "Joaquín", "John", "José", "Joseph", "Kevin", "Kwame", "Luis", "Malik", "Mark", "Matthew",
    "Michael", "Miguel", "Nathan", "Óscar", "Patrick", "Rafael", "Raúl", "Robert", "Samuel",
    "Søren", "Thomas", "Tomás", "Vikram", "William", "Wei", "Zachary",
)  # fmt: skip

LAST_NAMES = (
    "Adams", "Ahmed", "Álvarez", "Anderson", "Bailey", "Brontë", "Brown", "Castañeda", "Chen",
    "Cohen", "Davis", "Dvořák", "Edwards", "Fernández", "Fischer", "Flores", "García",
    "Gómez", "Green", "Hall", "Harris", "Hernández", "Ibáñez", "Jackson", "Jiménez", "Johnson",
    "Kaur", "Kim", "Köhler", "Lee", "Lefèvre", "Lopez", "López", "Martin", "Martínez",
    "McDonald", "Miller", "Moore", "Müller", "Muñoz", "Nakamura", "Nguyen", "Nguyễn", "Ñúñez",
    "O'Brien", "Okafor", "Ortiz", "Patel", "Peña", "Pérez", "Petrov", "Ramírez", "Reyes",
    "Robinson", "Rodríguez", "Sánchez", "Schäfer", "Scott", "Shah", "Singh", "Smith",
    "Smith-Jones", "Sullivan", "Tanaka", "Taylor", "Thomas", "Thompson", "Tran", "Van der Berg",
    "Walker", "White", "Williams", "Wilson", "Wright", "Yamamoto", "Young", "Zhang",
)  # fmt: skip

COMPANY_PREFIXES = (
    "Alder", "Bayview", "Belle Époque", "Blue Ridge", "Brightwater", "Canyon", "Cascade",
    "Cedar Point", "Clearview", "Copperleaf", "Driftwood", "Evergreen", "Falcon", "Golden Gate",
    "Granite", "Highland", "Ironwood", "Juniper", "Lakeside", "Lighthouse", "Maple", "Meridian",
    "Mesa", "Mission", "Northstar", "Oakridge", "Orchard", "Pacific", "Peñasco", "Pioneer",
    "Quarry", "Redwood", "Riverbend", "Sequoia", "Sierra", "Silverline", "Starling", "Sunrise",
    "Tidewater", "Valle Verde", "Vista", "Willow", "Windward", "Yosemite",
)  # fmt: skip

COMPANY_TRADES = (
    "Analytics", "Architects", "Auto Repair", "Bakery", "Brewing", "Builders", "Café",
    "Coffee Roasters", "Construction", "Consulting", "Dental Group", "Design Studio",
    "Electric", "Engineering", "Family Medicine", "Foods", "Hardware", "Home Care",
    "Landscaping", "Learning Center", "Logistics", "Machine Works", "Marine Supply",
    "Media", "Nurseries", "Outfitters", "Pharmacy", "Plumbing", "Print Works", "Realty",
    "Robotics", "Software", "Textiles", "Tile & Stone", "Veterinary Clinic",
)  # fmt: skip

COMPANY_SUFFIXES = (
    ", Inc.",
    " LLC",
    " Co.",
    " Corporation",
    ", Ltd.",
    " Group",
    " Partners",
    " & Sons",
)

STREET_NAMES = (
    "Alameda", "Broadway", "Calle Real", "Cedar", "Colfax", "Elm", "Hillcrest", "Lake",
    "Lincoln", "Maple", "Market", "Mission", "Oak", "Park", "Pine", "San Andrés", "Sunset",
    "Valencia", "Walnut", "Washington",
)  # fmt: skip

STREET_SUFFIXES = ("St", "Ave", "Blvd", "Way", "Dr", "Ct", "Ln")


class City(NamedTuple):
    name: str
    state: str
    zip_prefix: str
    area_code: str


CITIES_BY_REGION = {
    "NCAL": (
        City("Oakland", "CA", "946", "510"),
        City("San José", "CA", "951", "408"),
        City("Sacramento", "CA", "958", "916"),
        City("Fremont", "CA", "945", "510"),
        City("Santa Rosa", "CA", "954", "707"),
        City("San Francisco", "CA", "941", "415"),
    ),
    "SCAL": (
        City("Los Angeles", "CA", "900", "213"),
        City("San Diego", "CA", "921", "619"),
        City("Irvine", "CA", "926", "949"),
        City("Pasadena", "CA", "911", "626"),
        City("Riverside", "CA", "925", "951"),
        City("Long Beach", "CA", "908", "562"),
    ),
}

DIVISIONS = (
    ("EAST", "East Region"),
    ("WEST", "West Region"),
    ("NORTH", "North Region"),
    ("SOUTH", "South Region"),
    ("CENTRAL", "Central Office"),
    ("HQ", "Headquarters"),
    ("PLANT", "Manufacturing Plant"),
    ("FIELD", "Field Services"),
    ("RETAIL", "Retail Stores"),
)

PERSONAL_EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


# Access roles and privileges as the authorization policy names them.
ROLE_GROUP_OFFICER = "group_officer"
ROLE_PRIMARY_ADMINISTRATOR = "primary_administrator"
ROLE_MEMBERSHIP_REPRESENTATIVE = "membership_representative"
ROLE_ACCOUNT_REPRESENTATIVE = "account_representative"
PRIVILEGE_MEMBERS_READ = "MEMBERS_READ"
PRIVILEGE_MEMBERS_WRITE = "MEMBERS_WRITE"
PRIVILEGE_BILLING_READ = "BILLING_READ"
PRIVILEGE_BILLING_PAY = "BILLING_PAY"


@dataclass(frozen=True, slots=True)
class PlanSpec:
    code: str
    name: str
    kind: PlanKind
    metal_level: MetalLevel
    region: str
    # Monthly EMPLOYEE-tier rate in RATE_BASE_YEAR; other years follow the yearly trend.
    employee_rate_cents: int
    trend_basis_points: int
    is_offered: bool = True


# Rates are anchored to a fixed year, so that runs in different years agree on every year's rates.
RATE_BASE_YEAR = 2025

_HMO, _DHMO, _HSA, _PPO = PlanKind.HMO, PlanKind.DHMO, PlanKind.HSA_HMO, PlanKind.PPO
_P, _G, _S, _B = MetalLevel.PLATINUM, MetalLevel.GOLD, MetalLevel.SILVER, MetalLevel.BRONZE
PLANS = (
    PlanSpec("NCAL-HMO-P90", "Platinum 90 HMO 0/15", _HMO, _P, "NCAL", 81_240, 740),
    PlanSpec("NCAL-HMO-G80", "Gold 80 HMO 500/30", _HMO, _G, "NCAL", 70_215, 690),
    PlanSpec("NCAL-HMO-S70", "Silver 70 HMO 2000/45", _HMO, _S, "NCAL", 59_880, 620),
    PlanSpec("NCAL-DHMO-S70", "Silver 70 Deductible HMO 2500/50", _DHMO, _S, "NCAL", 57_125, 580),
    PlanSpec("NCAL-HSA-B60", "Bronze 60 HDHP HMO 3300/40%", _HSA, _B, "NCAL", 46_890, 530),
    PlanSpec("NCAL-PPO-G80", "Gold 80 PPO 500/30", _PPO, _G, "NCAL", 77_560, 860),
    # Withdrawn from sale: only older contracts carry it.
    PlanSpec(
        "NCAL-DHMO-B60", "Bronze 60 Deductible HMO 6300/65", _DHMO, _B, "NCAL", 44_910, 510, False
    ),
    PlanSpec("SCAL-HMO-P90", "Platinum 90 HMO 0/15", _HMO, _P, "SCAL", 76_480, 710),
    PlanSpec("SCAL-HMO-G80", "Gold 80 HMO 500/30", _HMO, _G, "SCAL", 66_030, 650),
    PlanSpec("SCAL-HMO-S70", "Silver 70 HMO 2000/45", _HMO, _S, "SCAL", 56_215, 600),
    PlanSpec("SCAL-DHMO-B60", "Bronze 60 Deductible HMO 6300/65", _DHMO, _B, "SCAL", 42_770, 560),
    PlanSpec("SCAL-HSA-B60", "Bronze 60 HDHP HMO 3300/40%", _HSA, _B, "SCAL", 44_150, 520),
    PlanSpec("SCAL-PPO-P90", "Platinum 90 PPO 250/20", _PPO, _P, "SCAL", 84_990, 890),
)

# Per metal level: deductible, out-of-pocket maximum, then the copays of primary care,
# specialist, urgent care, emergency room and generic drugs (cents), and the coinsurance percent.
METAL_BENEFITS = {
    _P: (0, 4_500_00, 15_00, 30_00, 15_00, 150_00, 5_00, 10),
    _G: (500_00, 7_000_00, 30_00, 50_00, 30_00, 300_00, 15_00, 20),
    _S: (2_000_00, 8_200_00, 45_00, 75_00, 45_00, 400_00, 20_00, 30),
    _B: (6_300_00, 8_700_00, 65_00, 95_00, 65_00, 500_00, 25_00, 40),
}


class UserSpec(NamedTuple):
    email: str
    name: str


class AgencySpec(NamedTuple):
    name: str
    license_number: str
    commission_basis: CommissionBasis
    # Basis points of premium, or cents per subscriber per month, as the basis says.
    commission_figure: int
    brokers: tuple[UserSpec, ...]


SUMMIT_LICENSE = "0H41827"
KEYSTONE_LICENSE = "0M22964"
AGENCIES = (
    AgencySpec(
        "Summit Benefits",
        SUMMIT_LICENSE,
        CommissionBasis.PERCENT_OF_PREMIUM,
        450,
        (
            UserSpec("broker@summit.example", "Rachel Kim"),
            UserSpec("luis.ortega@summit.example", "Luis Ortega"),
        ),
    ),
    AgencySpec(
        "Harborview Insurance Services",
        "0K73105",
        CommissionBasis.PERCENT_OF_PREMIUM,
        400,
        (UserSpec("amara.okafor@harborview.example", "Amara Okafor"),),
    ),
    AgencySpec(
        "Keystone Benefit Partners",
        KEYSTONE_LICENSE,
        CommissionBasis.PER_SUBSCRIBER_PER_MONTH,
        28_00,
        (UserSpec("dieter.schmidt@keystone.example", "Dieter Schmidt"),),
    ),
    AgencySpec(
        "Pacific Crest Brokerage",
        "0G58310",
        CommissionBasis.PERCENT_OF_PREMIUM,
        500,
        (UserSpec("noelle.dubois@pacificcrest.example", "Noëlle Dubois"),),
    ),
)

CARRIER_STAFF = (
    (UserSpec("rep@carrier.example", "Jordan Blake"), ROLE_MEMBERSHIP_REPRESENTATIVE),
    (UserSpec("accounts@carrier.example", "Sofía Marín"), ROLE_ACCOUNT_REPRESENTATIVE),
)
ACCOUNT_REPRESENTATIVE_EMAIL = "accounts@carrier.example"


@dataclass(frozen=True, slots=True)
class SubUserSpec:
    user: UserSpec
    privileges: tuple[str, ...]
    division_code: str | None = None


@dataclass(frozen=True, slots=True)
class GroupProfile:
    """What distinguishes a group before its members are drawn; personas fix every field."""

    legal_name: str
    region: str
    member_count: int
    renewal_months_ahead: int
    divisions: tuple[tuple[str, str], ...]
    officer: UserSpec
    administrator: UserSpec
    agency_license: str | None
    former_agency_license: str | None = None
    billing_email: str | None = None
    autopay: bool = False
    cobra_administered_by_carrier: bool = False
    sub_users: tuple[SubUserSpec, ...] = ()
    terminated_months_ago: int | None = None


PERSONA_GROUPS = (
    GroupProfile(
        legal_name="Acme Manufacturing",
        region="NCAL",
        member_count=150,
        renewal_months_ahead=2,  # inside its renewal window on any day
        divisions=(("EAST", "East Plant"), ("WEST", "West Plant"), ("CENTRAL", "Head Office")),
        officer=UserSpec("officer@acme.example", "Margaret Chen"),
        administrator=UserSpec("admin@acme.example", "Daniel Ortiz"),
        agency_license=SUMMIT_LICENSE,
        billing_email="billing@acme.example",
        sub_users=(
            SubUserSpec(
                UserSpec("billing@acme.example", "Priya Natarajan"),
                (PRIVILEGE_BILLING_READ, PRIVILEGE_BILLING_PAY),
            ),
            SubUserSpec(
                UserSpec("hr.east@acme.example", "Tomás Rivera"),
                (PRIVILEGE_MEMBERS_READ, PRIVILEGE_MEMBERS_WRITE),
                division_code="EAST",
            ),
        ),
    ),
    GroupProfile(
        legal_name="Globex Corporation",
        region="SCAL",
        member_count=60,
        renewal_months_ahead=6,
        divisions=(("ENG", "Engineering"), ("OPS", "Operations")),
        officer=UserSpec("officer@globex.example", "Helen Park"),
        administrator=UserSpec("admin@globex.example", "Marcus Webb"),
        agency_license=SUMMIT_LICENSE,
        autopay=True,
        cobra_administered_by_carrier=True,
    ),
    GroupProfile(
        legal_name="Initech",
        region="SCAL",
        member_count=12,
        renewal_months_ahead=3,
        divisions=(),
        officer=UserSpec("officer@initech.example", "William Lomax"),
        administrator=UserSpec("admin@initech.example", "Joanna Reyes"),
        # Summit's appointment ended: its brokers must no longer see Initech.
        agency_license=KEYSTONE_LICENSE,
        former_agency_license=SUMMIT_LICENSE,
    ),
)
