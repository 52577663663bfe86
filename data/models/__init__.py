"""Every table of the product, one module per domain; importing this registers them all."""

from data.models.audit import AuditEvent
from data.models.base import Base
from data.models.billing import AutopayMandate, Bill, BillAdjustment, BillLine, Payment
from data.models.commissions import (
    CommissionSchedule,
    CommissionStatement,
    CommissionStatementLine,
)
from data.models.contracts import Contract, ContractPlan, Document
from data.models.enrollment import (
    EnrollmentBatch,
    EnrollmentBatchRow,
    EnrollmentRequest,
    EnrollmentRequestEvent,
    IdCardRequest,
    ReviewItem,
)
from data.models.groups import Division, Group
from data.models.members import Coverage, Member
from data.models.plans import Plan, PlanBenefits, PlanRate
from data.models.quotes import (
    AnonymousQuoteWindow,
    GroupApplication,
    GroupApplicationEvent,
    Quote,
    QuotePlan,
)
from data.models.renewals import Renewal, RenewalChangeEvent, RenewalChangeRequest, RenewalOption
from data.models.users import (
    AccessGrant,
    Agency,
    BrokerOfRecord,
    CasbinRule,
    OAuthAuthorizationCode,
    OAuthClient,
    OAuthRefreshToken,
    PolicyVersion,
    PrimaryAdministratorDesignation,
    SignInAttempt,
    User,
    UserInvitation,
)

__all__ = [
    "AccessGrant",
    "Agency",
    "AnonymousQuoteWindow",
    "AuditEvent",
    "AutopayMandate",
    "Base",
    "Bill",
    "BillAdjustment",
    "BillLine",
    "BrokerOfRecord",
    "CasbinRule",
    "CommissionSchedule",
    "CommissionStatement",
    "CommissionStatementLine",
    "Contract",
    "ContractPlan",
    "Coverage",
    "Division",
    "Document",
    "EnrollmentBatch",
    "EnrollmentBatchRow",
    "EnrollmentRequest",
    "EnrollmentRequestEvent",
    "Group",
    "GroupApplication",
    "GroupApplicationEvent",
    "IdCardRequest",
    "Member",
    "OAuthAuthorizationCode",
    "OAuthClient",
    "OAuthRefreshToken",
    "Payment",
    "Plan",
    "PlanBenefits",
    "PlanRate",
    "PolicyVersion",
    "PrimaryAdministratorDesignation",
    "Quote",
    "QuotePlan",
    "Renewal",
    "RenewalChangeEvent",
    "RenewalChangeRequest",
    "RenewalOption",
    "ReviewItem",
    "SignInAttempt",
    "User",
    "UserInvitation",
]
