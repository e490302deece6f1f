"""Training utilities shared by every network (needs the [train] extra only where torch is imported)."""
