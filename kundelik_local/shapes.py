"""JSON shapes of the Kundelik API (kundelik-api.md §1.6), field for field: ids as numbers with their ``_str``
twins, camelCase everywhere except ``schools/{id}/teachers``, which Kundelik returns in PascalCase."""

from __future__ import annotations

from typing import Any

from kundelik_local.data import EduGroup, Person, School, World

_SEX = {"male": "Male", "female": "Female"}


def _birthday(person: Person) -> str | None:
    return f"{person.birthday.isoformat()}T00:00:00" if person.birthday else None


def person(p: Person) -> dict[str, Any]:
    """``Person``."""
    user_id = p.user_id
    return {"id": p.id, "id_str": str(p.id), "userId": user_id, "userId_str": str(user_id) if user_id else None,
            "firstName": p.first_name, "lastName": p.last_name, "middleName": p.middle_name,
            "shortName": p.short_name, "sex": _SEX[p.sex]}


def person_detail(p: Person) -> dict[str, Any]:
    """``Person`` as ``GET persons/{id}`` returns it (with the birthday)."""
    return {**person(p), "birthday": _birthday(p)}


def user(p: Person) -> dict[str, Any]:
    """``User``: the login account of a person."""
    user_id = p.user_id
    return {"id": user_id, "id_str": str(user_id), "personId": p.id, "personId_str": str(p.id),
            "name": p.first_name, "email": p.email or None, "login": p.login, "fullName": p.full_name,
            "middleName": p.middle_name, "lastName": p.last_name, "shortName": p.short_name, "locale": "ru",
            "timezone": 300, "sex": _SEX[p.sex], "photoSmall": None, "photoMedium": None, "photoLarge": None,
            "birthday": _birthday(p), "roles": list(p.roles), "phone": None}


def school(s: School) -> dict[str, Any]:
    """``School``."""
    return {"id": s.id, "id_str": str(s.id), "name": s.name, "fullName": s.full_name, "avatarSmall": None,
            "city": s.city, "municipality": s.municipality, "regionId": s.region_id, "markType": "Mark5",
            "timeZone": 300, "uses_avg": True, "uses_weighted_avg": False, "educationType": "Regular",
            "tsoRegionTreePath": None}


def edu_group(g: EduGroup, study_year: int) -> dict[str, Any]:
    """``EduGroup``: a class, or a subgroup with its class in ``parentIds``."""
    parents = [g.parent_id] if g.parent_id else []
    return {"id": g.id, "id_str": str(g.id), "parentIds": parents, "parentIds_str": [str(i) for i in parents],
            "type": g.type, "name": g.name, "fullName": g.name, "parallel": g.parallel, "timetable": None,
            "status": "Active", "studyyear": study_year, "subjects": [], "journalType": "Regular"}


def teacher(p: Person, *, house_master: bool) -> dict[str, Any]:
    """``Teacher``, in PascalCase as ``schools/{id}/teachers`` returns it."""
    user_id = p.user_id
    managing = "EduSchoolAdministrator" in p.roles
    return {"Id": p.id, "IdStr": str(p.id), "UserId": user_id, "UserIdStr": str(user_id) if user_id else None,
            "FirstName": p.first_name, "LastName": p.last_name, "MiddleName": p.middle_name,
            "ShortName": p.short_name, "Sex": _SEX[p.sex], "DateBirth": _birthday(p), "Email": p.email or None,
            "Subjects": [], "HouseMaster": house_master, "Education": None, "scientificDegree": None,
            "StartDate": None, "PedagogicalActivityDate": None, "ManagingEmployee": managing,
            "NameManagingPosition": p.position if managing else None, "TeachingStaff": not managing,
            "NameTeacherPosition": p.position or None, "TrainingAndSupportStaff": False,
            "ServicePersonnel": False, "MedicalWorker": False, "NameMedicalPosition": None,
            "ExternalPartTime": False}


def context(p: Person, world: World, study_year: int) -> dict[str, Any]:
    """``UserContext``: roles, schools and classes of the signed-in user (``groupIds`` without subgroups)."""
    groups = world.groups_of(p.id)
    schools = [{"id": s, "name": world.schools[s].name, "type": "School",
                "groupIds": [g.id for g in groups if g.school_id == s and g.type == "Group"]}
               for s in p.school_ids]
    return {"userId": p.user_id, "avatarUrl": None, "roles": list(p.roles), "schools": schools,
            "eduGroups": [edu_group(g, study_year) for g in groups], "personId": p.id, "shortName": p.short_name,
            "schoolIds": list(p.school_ids), "groupIds": [g.id for g in groups if g.type == "Group"]}


def error(kind: str, description: str) -> dict[str, str]:
    """Kundelik's JSON error body (§1.4)."""
    return {"type": kind, "description": description}
