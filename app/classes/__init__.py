"""The class teacher's pages: their classes and a flags-only view of each (no details, ever)."""
