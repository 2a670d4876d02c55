"""Values every layer shares, so no import climbs back up: a run's identity and what the stages report.

Below ``sources/``, ``warehouse/`` and ``pipeline/``; imports nothing of cloudcost but its base modules."""
