"""SQLAlchemy 2 models of the back office: the comune's citizens, pratiche, taxes and services.

One module per area; every table is importable from here (`from backoffice.db import models`).
"""

from backoffice.db.models.announcements import (
    Announcement,
    AnnouncementSubscriber,
    AnnouncementSubscription,
    AnnouncementTopic,
    AnnouncementZone,
    WasteCollection,
)
from backoffice.db.models.appointments import LIVE_APPOINTMENT, Appointment, AppointmentStatus, CounterService
from backoffice.db.models.base import Base, FieldKind, PracticeStatus, TaxStatus, UTCDateTime, _in, utcnow
from backoffice.db.models.identity import ChannelLink, Citizen, FailedAttempt, LinkCode
from backoffice.db.models.practices import (
    Document,
    Practice,
    PracticeHistory,
    PracticeType,
    ProtocolCounter,
    Upload,
)
from backoffice.db.models.shared import Delivery, Event, IdempotencyRecord, JobLease
from backoffice.db.models.staff import PracticeNote, StaffAudit, StaffRole, StaffSession, StaffUser
from backoffice.db.models.taxes import PaymentNotice, PaymentReceipt, TaxPosition

__all__ = [
    "StaffRole",
    "StaffUser",
    "StaffSession",
    "StaffAudit",
    "PracticeNote",
    "UTCDateTime",
    "utcnow",
    "PracticeStatus",
    "TaxStatus",
    "FieldKind",
    "_in",
    "Base",
    "Citizen",
    "ChannelLink",
    "LinkCode",
    "FailedAttempt",
    "PracticeType",
    "Practice",
    "PracticeHistory",
    "Upload",
    "ProtocolCounter",
    "Document",
    "TaxPosition",
    "PaymentNotice",
    "PaymentReceipt",
    "CounterService",
    "AppointmentStatus",
    "LIVE_APPOINTMENT",
    "Appointment",
    "Event",
    "Delivery",
    "IdempotencyRecord",
    "JobLease",
    "AnnouncementTopic",
    "AnnouncementZone",
    "AnnouncementSubscriber",
    "AnnouncementSubscription",
    "Announcement",
    "WasteCollection",
]
