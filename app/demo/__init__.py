"""The demo county: reference records, 53 organisations, rosters, 120 cases with histories, 五有
inspections and the demo accounts (``loader``), its case histories (``cases``) and inspections
(``inspections``).  ``markers`` holds what identifies demo data; it imports nothing of the app.

Nothing here is imported by the running app except ``markers`` (production refuses demo data).
"""
