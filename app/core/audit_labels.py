"""Audit actions and outcomes in words, for the pages that show the log (the admin's audit log, a pupil's
"who viewed this record"). The codes stay in the database and in exports; people read these.

A test fails for any :class:`~app.core.audit.AuditAction` without a label here, in every interface language.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from app.core.audit import AuditAction as A

AUDIT_ACTION_LABELS: dict[A, LazyString] = {
    A.LOGIN_SUCCESS: _l("Signed in"),
    A.LOGIN_FAILED: _l("Sign-in failed"),
    A.LOCKOUT: _l("Sign-in paused after failed attempts"),
    A.LOCKOUT_REPORTED: _l("Administration told of a psychologist's paused sign-in"),
    A.LOGOUT: _l("Signed out"),
    A.MFA_ENROLLED: _l("Two-step sign-in set up"),
    A.MFA_VERIFIED: _l("Two-step code accepted"),
    A.MFA_FAILED: _l("Two-step code refused"),
    A.PASSWORD_CHANGED: _l("Password changed"),
    A.PASSWORD_CHANGE_REQUIRED: _l("Asked to change the password"),
    A.SESSION_EXPIRED: _l("Signed out after inactivity"),
    A.ACCESS_DENIED: _l("Access refused"),
    A.CSRF_FAILED: _l("Form refused (security check failed)"),
    A.CRYPTO_INTEGRITY_FAILED: _l("Encrypted data failed its integrity check"),
    A.KEYS_ROTATED: _l("Encryption keys rotated"),
    A.SCHOOL_CREATE: _l("School added"),
    A.SCHOOL_UPDATE: _l("School changed"),
    A.CLASS_CREATE: _l("Class added"),
    A.CLASS_UPDATE: _l("Class changed"),
    A.USER_CREATE: _l("Account created"),
    A.USER_UPDATE: _l("Account changed"),
    A.USER_DISABLE: _l("Account disabled"),
    A.USER_ENABLE: _l("Account enabled"),
    A.ROLE_GRANT: _l("Role granted"),
    A.ROLE_REVOKE: _l("Role taken away"),
    A.PUPIL_CREATE: _l("Pupil added"),
    A.PUPIL_UPDATE: _l("Pupil record changed"),
    A.PUPIL_READ: _l("Pupil record opened"),
    A.PUPIL_LIST: _l("Pupil list opened"),
    A.PUPIL_SEARCH: _l("Pupils searched"),
    A.PUPIL_ACCESS_LOG_READ: _l("Record's access log opened"),
    A.GUARDIAN_LINK: _l("Parent linked to a pupil"),
    A.AUDIT_LOG_READ: _l("Audit log opened"),
    A.CLASS_FLAGS_READ: _l("Class flags opened"),
    A.PARENT_CHILD_READ: _l("Child's page opened by a parent"),
    A.PUPIL_SELF_READ: _l("Pupil's own page opened"),
    A.REPORT_READ: _l("Report opened"),
    A.DEMO_CREATED: _l("Demonstration data created"),
    A.PASSWORD_RESET: _l("Temporary password set by an administrator"),
    A.MFA_RESET: _l("Two-step sign-in reset"),
    A.REGION_CREATE: _l("Region added"),
    A.DISTRICT_CREATE: _l("District added"),
    A.AUDIT_VERIFY: _l("Audit log checked for tampering"),
    A.CONSENT_GIVEN: _l("Consent recorded"),
    A.CONSENT_WITHDRAWN: _l("Consent withdrawn"),
    A.CAMPAIGN_CREATE: _l("Screening campaign planned"),
    A.CAMPAIGN_READ: _l("Screening campaign opened"),
    A.SCREENING_CODES_ISSUED: _l("One-time codes issued"),
    A.SCREENING_CODES_PRINTED: _l("Code cards printed"),
    A.SCREENING_CODE_FAILED: _l("Wrong one-time code entered"),
    A.SCREENING_ANSWER_SAVED: _l("Answer saved"),
    A.SCREENING_SUBMIT: _l("Questionnaire submitted"),
    A.SCREENING_RESULT_READ: _l("Screening results opened"),
    A.SCREENING_RESULT_EXPORT: _l("Screening result downloaded"),
    A.ALERT_RAISED: _l("Alert raised"),
    A.ALERT_UPGRADED: _l("Alert made more severe"),
    A.ALERT_ACKNOWLEDGED: _l("Alert acknowledged"),
    A.ALERT_RESOLVED: _l("Alert resolved"),
    A.ALERT_ESCALATED: _l("Alert passed to the administration"),
    A.ALERT_LIST_READ: _l("Alert inbox opened"),
    A.HELP_REQUEST_SENT: _l("A pupil asked for help"),
    A.HELP_REQUEST_THROTTLED: _l("Request for help refused: too many at once"),
    A.HELP_SERVICE_CREATE: _l("Help directory entry added"),
    A.HELP_SERVICE_UPDATE: _l("Help directory entry changed"),
    A.REAUTH: _l("Password confirmed again"),
    A.CONSENT_READ: _l("Consent page opened"),
    A.LOCAL_INSTRUMENT_UPLOAD: _l("Local method uploaded"),
    A.LOCAL_INSTRUMENT_RETIRE: _l("Local method retired"),
    A.CLASS_OVERVIEW_READ: _l("Class overview opened"),
    A.SCREENING_SESSION_CLOSED: _l("Unfinished questionnaire closed"),
    A.SCREENING_SESSION_STOPPED: _l("Questionnaire stopped: consent ended"),
    A.SCREENING_CODE_REPLACED: _l("One-time code replaced"),
    A.SCREENING_CODES_VIEWED: _l("Code cards opened"),
    A.SCREENING_CODES_PURGED: _l("Unprinted code cards erased"),
    A.SCREENING_SESSION_LAUNCHED: _l("Follow-up questionnaire started by an answer"),
    A.ROSTER_UPLOAD: _l("Roster file uploaded"),
    A.ROSTER_PREVIEW: _l("Roster import preview opened"),
    A.ROSTER_IMPORT: _l("Roster imported"),
    A.ROSTER_EXPORT: _l("Roster downloaded"),
    A.CASE_OPENED: _l("Case opened"),
    A.CASE_READ: _l("Case file opened"),
    A.CASE_LIST_READ: _l("Caseload opened"),
    A.CASE_RISK_CHANGED: _l("Case risk level changed"),
    A.CASE_STATUS_CHANGED: _l("Case status changed"),
    A.CASE_REVIEW_DATE_SET: _l("Case review date set"),
    A.CASE_MEMBER_ADDED: _l("Added to a case team"),
    A.CASE_MEMBER_REMOVED: _l("Removed from a case team"),
    A.CASE_NOTE_ADDED: _l("Case note added"),
    A.CASE_ALERT_LINKED: _l("Alert joined to a case"),
    A.EDIT_CONFLICT: _l("Edit refused: someone else changed the record first"),
    A.REGISTRY_READ: _l("Registry entries opened"),
    A.REGISTRY_CREATE: _l("Pupil registered"),
    A.REGISTRY_UPDATE: _l("Registry entry changed"),
    A.REGISTRY_DEREGISTER: _l("Pupil deregistered"),
    A.PASSWORD_RESET_REQUESTED: _l("New password requested"),
    A.PASSWORD_RESET_COMPLETED: _l("New password chosen with an e-mailed link"),
    A.PASSWORD_RESET_REFUSED: _l("New password request refused"),
}


def action_label(action: str) -> str:
    """An audit action in words; an unknown code (from a newer version) is shown with its parts as words."""
    try:
        label = AUDIT_ACTION_LABELS.get(A(action))
    except ValueError:
        label = None
    return str(label) if label is not None else action.replace(":", " ").replace("_", " ")
