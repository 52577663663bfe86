"""The carrier's plan catalogue: benefits and monthly rates per coverage tier and plan year."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, BigId, CreatedAtMixin, IdMixin, enum_type


class CoverageTier(enum.StrEnum):
    EMPLOYEE = "EMPLOYEE"
    EMPLOYEE_SPOUSE = "EMPLOYEE_SPOUSE"
    EMPLOYEE_CHILDREN = "EMPLOYEE_CHILDREN"
    FAMILY = "FAMILY"


class MetalLevel(enum.StrEnum):
    BRONZE = "BRONZE"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class PlanKind(enum.StrEnum):
    HMO = "HMO"
    DHMO = "DHMO"
    HSA_HMO = "HSA_HMO"
    PPO = "PPO"


class Plan(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PlanKind] = mapped_column(enum_type(PlanKind))
    metal_level: Mapped[MetalLevel] = mapped_column(enum_type(MetalLevel))
    region: Mapped[str] = mapped_column(String(8), index=True)
    # Plans withdrawn from sale stay readable for the contracts that carry them.
    is_offered: Mapped[bool] = mapped_column(default=True)


class PlanBenefits(IdMixin, Base):
    """What a plan covers in one plan year; all amounts are integer cents."""

    __tablename__ = "plan_benefits"
    __table_args__ = (
        UniqueConstraint("plan_id", "plan_year"),
        CheckConstraint(
            "deductible_individual_cents >= 0 AND deductible_family_cents >= 0"
            " AND oop_max_individual_cents >= 0 AND oop_max_family_cents >= 0"
            " AND primary_care_copay_cents >= 0 AND specialist_copay_cents >= 0"
            " AND urgent_care_copay_cents >= 0 AND emergency_copay_cents >= 0"
            " AND generic_drug_copay_cents >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint("coinsurance_percent BETWEEN 0 AND 100", name="coinsurance_percent"),
    )

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id", ondelete="CASCADE"))
    plan_year: Mapped[int] = mapped_column(SmallInteger)
    deductible_individual_cents: Mapped[int] = mapped_column(Integer)
    deductible_family_cents: Mapped[int] = mapped_column(Integer)
    oop_max_individual_cents: Mapped[int] = mapped_column(Integer)
    oop_max_family_cents: Mapped[int] = mapped_column(Integer)
    primary_care_copay_cents: Mapped[int] = mapped_column(Integer)
    specialist_copay_cents: Mapped[int] = mapped_column(Integer)
    urgent_care_copay_cents: Mapped[int] = mapped_column(Integer)
    emergency_copay_cents: Mapped[int] = mapped_column(Integer)
    generic_drug_copay_cents: Mapped[int] = mapped_column(Integer)
    coinsurance_percent: Mapped[int] = mapped_column(SmallInteger)


class PlanRate(IdMixin, Base):
    """Monthly premium of one coverage tier of a plan in one plan year."""

    __tablename__ = "plan_rates"
    __table_args__ = (
        UniqueConstraint("plan_id", "plan_year", "tier"),
        CheckConstraint("monthly_rate_cents > 0", name="rate_positive"),
    )

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id", ondelete="CASCADE"))
    plan_year: Mapped[int] = mapped_column(SmallInteger)
    tier: Mapped[CoverageTier] = mapped_column(enum_type(CoverageTier))
    monthly_rate_cents: Mapped[int] = mapped_column(Integer)
