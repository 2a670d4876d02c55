"""Attribution rollups over the unified FOCUS table, refreshed only behind the load gate."""
