"""What referral, step and transfer codes are called in the interface language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.monitoring.referral_models import ReferralDestination, ReferralStatus, TransferStatus

DESTINATION = {
    ReferralDestination.SPECIALIST: _l("Child psychiatrist or psychotherapist"),
    ReferralDestination.MOBILE_GROUP: _l("Mobile rapid-response group"),
    ReferralDestination.COMMISSION: _l("Juvenile affairs commission"),
    ReferralDestination.POLICE: _l("Police (juvenile inspector)"),
    ReferralDestination.SUPPORT_CENTRE: _l("Psychological support centre"),
}

STATUS = {
    ReferralStatus.SENT: _l("Sent"),
    ReferralStatus.ACCEPTED: _l("Accepted"),
    ReferralStatus.OUTCOME: _l("Outcome recorded"),
    ReferralStatus.DECLINED: _l("Declined"),
}
#: The choice text for moving a referral to a status.
STATUS_ACTION = {
    ReferralStatus.ACCEPTED: _l("They accepted the referral"),
    ReferralStatus.OUTCOME: _l("Record the outcome"),
    ReferralStatus.DECLINED: _l("They declined the referral"),
}

LEVEL = {"high": _l("High risk"), "acute": _l("Acute risk")}

TRANSFER_STATUS = {
    TransferStatus.PENDING: _l("Waiting for the new school"),
    TransferStatus.ACCEPTED: _l("Accepted"),
    TransferStatus.DECLINED: _l("Declined"),
    TransferStatus.WITHDRAWN: _l("Withdrawn"),
}


def template_labels() -> dict[str, Any]:
    return {"destination": DESTINATION, "referral_status": STATUS, "level": LEVEL,
            "transfer_status": TRANSFER_STATUS}
