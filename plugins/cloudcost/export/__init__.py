"""``cloudcost export``: an org's FOCUS 1.3 (or 1.4) rows as CSV, Parquet or pulumicost JSON for downstream tools.

Modules: ``pulumicost`` (FOCUS row -> FocusCostRecord, mapping in configs/pulumicost_focus_record.yml),
``writers`` (one streaming writer per format), ``run`` (query, sidecar), ``metrics`` (pipeline_metrics), ``cli``.
"""

from cloudcost.schemas import FOCUS_SCHEMA_FILES, PRIMARY_FOCUS_VERSION

FOCUS_VERSION = PRIMARY_FOCUS_VERSION  # the default: the primary table
FOCUS_VERSIONS = tuple(FOCUS_SCHEMA_FILES)  # every version whose table this build writes
DATA_GENERATOR = "cloudcost"
