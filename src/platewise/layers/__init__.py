"""Shared torch building blocks (the one copy of each): needs the [train] extra."""
