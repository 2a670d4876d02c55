"""Demo data generators: realistic provider exports, deterministic from a seed."""
