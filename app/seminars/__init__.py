"""Seminars for parents and staff (roadmap measure 13: online seminars): scheduling, registration with capacity and
deadline, reminders by e-mail, attendance and materials afterwards."""
