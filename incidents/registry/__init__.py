"""The registry of weapons reported lost, stolen or diverted (issue 23), and the hits that
match a seized weapon with a registry entry or with another seizure.

Like INTERPOL's iARMS, every weapon recorded is checked against the registry; beyond it,
partial and altered serials are matched too (matching.py). Modules: choices.py, serials.py
(how a serial is normalised and folded), models.py, querysets.py (who reads what),
services.py (writes), matching.py (the SQL), hits.py (checking the queue and writing hits).
"""
