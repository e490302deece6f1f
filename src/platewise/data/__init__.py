"""Data sources (the shared real data sets), fixed hold-out splits, synthetic generators."""
