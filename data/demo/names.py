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
PRIVILEGE_CONTRACTS_READ = "CONTRACTS_READ"
PRIVILEGE_DOCUMENTS_READ = "DOCUMENTS_READ"
PRIVILEGE_RENEWAL_READ = "RENEWAL_READ"
# The privileges of the `view_only` preset: follows members, bills, contracts and the renewal.
VIEW_ONLY_PRIVILEGES = (
    PRIVILEGE_MEMBERS_READ,
    PRIVILEGE_BILLING_READ,
    PRIVILEGE_CONTRACTS_READ,
    PRIVILEGE_DOCUMENTS_READ,
    PRIVILEGE_RENEWAL_READ,
)


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
    # The figure from the plan year after the current one on, when the agency renegotiated it.
    next_plan_year_figure: int | None = None


SUMMIT_LICENSE = "0H41827"
HARBORVIEW_LICENSE = "0K73105"
KEYSTONE_LICENSE = "0M22964"
PACIFIC_CREST_LICENSE = "0G58310"
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
        next_plan_year_figure=475,
    ),
    AgencySpec(
        "Harborview Insurance Services",
        HARBORVIEW_LICENSE,
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
        PACIFIC_CREST_LICENSE,
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
            # Follows the renewal (and everything else) without changing anything.
            SubUserSpec(UserSpec("viewer@acme.example", "Ingrid Solberg"), VIEW_ONLY_PRIVILEGES),
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


@dataclass(frozen=True, slots=True)
class Showcase:
    """What a generated group is made to show, on top of what its seed draws.

    The first generated groups, so that the tests' small demo (six groups) has them: every agency
    has a group in its book, the account representative has renewal changes to work, and one of
    Summit's groups has a reversed payment and a bill paid only in part.
    """

    agency_license: str
    renewal_months_ahead: int | None = None  # None: as drawn
    # "SUBMITTED" or "IN_REVIEW": a renewal change request in that status (renewal in window).
    change_request_status: str | None = None
    payment_exceptions: bool = False


SHOWCASE_GROUPS = {
    # One and two months ahead: inside the 75-day renewal window on any day.
    3: Showcase(HARBORVIEW_LICENSE, renewal_months_ahead=1, change_request_status="SUBMITTED"),
    4: Showcase(PACIFIC_CREST_LICENSE, renewal_months_ahead=2, change_request_status="IN_REVIEW"),
    5: Showcase(SUMMIT_LICENSE, payment_exceptions=True),
}


class QuoteSpec(NamedTuple):
    number: str
    broker_email: str | None  # None: an anonymous prospect's quote
    prospect: str
    region: str
    postal_code: str
    census: tuple[int, int, int, int]  # employees at EMPLOYEE, +CHILDREN, +SPOUSE, FAMILY
    plan_codes: tuple[str, ...]
    days_ago: int


# The access key of the anonymous demo quote, so that someone trying the API can read it.
DEMO_PROSPECT_ACCESS_KEY = "demo-prospect-access-key-Q9000000005"

QUOTES = (
    QuoteSpec(
        "Q9000000001", "broker@summit.example", "Sequoia Robotics, Inc.", "NCAL", "94612",
        (14, 3, 5, 6), ("NCAL-HMO-G80", "NCAL-HMO-S70", "NCAL-PPO-G80"), 9,
    ),
    QuoteSpec(
        "Q9000000002", "amara.okafor@harborview.example", "Tidewater Marine Supply", "SCAL",
        "92101", (8, 2, 3, 4), ("SCAL-HMO-G80", "SCAL-HSA-B60"), 16,
    ),
    QuoteSpec(
        "Q9000000003", "dieter.schmidt@keystone.example", "Granite Tile & Stone Co.", "NCAL",
        "95814", (5, 1, 2, 1), ("NCAL-HMO-S70", "NCAL-HSA-B60"), 30,
    ),
    QuoteSpec(
        "Q9000000004", "noelle.dubois@pacificcrest.example", "Mesa Family Medicine", "SCAL",
        "91101", (20, 4, 6, 9), ("SCAL-HMO-P90", "SCAL-HMO-G80", "SCAL-PPO-P90"), 4,
    ),
    QuoteSpec(
        "Q9000000005", None, "Juniper Café", "NCAL", "94110", (3, 0, 1, 0),
        ("NCAL-HMO-G80", "NCAL-DHMO-S70"), 2,
    ),
    # Made more than 60 days ago: expired.
    QuoteSpec(
        "Q9000000006", "broker@summit.example", "Quarry Hill Bakery", "NCAL", "95403",
        (6, 1, 1, 2), ("NCAL-HMO-G80",), 75,
    ),
)  # fmt: skip


class ApplicationSpec(NamedTuple):
    number: str
    quote_number: str
    status: str  # the ApplicationStatus it has reached
    officer: UserSpec
    officer_title: str
    address: tuple[str, str, str]  # street line, city, state (the ZIP code is the quote's)
    tax_id: str
    reason: str | None = None


APPLICATIONS = (
    ApplicationSpec(
        "A9000000001", "Q9000000001", "SUBMITTED",
        UserSpec("cfo@sequoia-robotics.example", "Hannah Lindqvist"), "Chief Financial Officer",
        ("1200 Broadway", "Oakland", "CA"), "94-3187265",
    ),
    ApplicationSpec(
        "A9000000002", "Q9000000002", "IN_REVIEW",
        UserSpec("owner@tidewater-marine.example", "Rafael Castañeda"), "Owner",
        ("455 Harbor Dr", "San Diego", "CA"), "33-0914452",
    ),
    ApplicationSpec(
        "A9000000003", "Q9000000003", "DECLINED",
        UserSpec("president@granite-tile.example", "Deborah Walker"), "President",
        ("88 Capitol Mall", "Sacramento", "CA"), "68-0571139",
        reason="The census lists 9 employees but the payroll report shows 4 on payroll: "
        "send a census that matches the payroll, on a new application.",
    ),
)  # fmt: skip
