"""Billing exports behind one interface: each provider's real layout, read through an ObjectStore."""
