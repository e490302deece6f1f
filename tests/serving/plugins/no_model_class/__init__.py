"""Test plug-in that defines no model class."""

VALUE = 1
