"""``cloudcost export``: an org's FOCUS 1.3 (or 1.4) rows as CSV, Parquet or pulumicost JSON for downstream tools.

Modules: ``pulumicost`` (FOCUS row -> FocusCostRecord, mapping in configs/pulumicost_focus_record.yml),
``writers`` (one streaming writer per format), ``run`` (query, sidecar), ``metrics`` (pipeline_metrics), ``cli``.
"""

FOCUS_VERSION = "1.3"  # the default: the primary table
FOCUS_VERSIONS = ("1.3", "1.4")
DATA_GENERATOR = "cloudcost"
