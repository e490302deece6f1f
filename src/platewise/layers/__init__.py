"""The one copy of each shared torch block (needs the [train] extra)."""
