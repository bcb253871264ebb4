"""Parental consent for psychodiagnostics: records, withdrawal, and the "has valid consent" check."""
