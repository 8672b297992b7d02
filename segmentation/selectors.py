"""Reads of the segmentation app shared with other apps."""

DEFAULT_CADENCE_DAYS = {"A": 14, "B": 30, "C": 90, None: 30}


def cadence_days_by_class() -> dict[str | None, int]:
    """Maximum days without contact per ABC class (None: clients without a class)."""
    return dict(DEFAULT_CADENCE_DAYS)
