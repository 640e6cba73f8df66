"""Customer journeys in columnar form: every touch of every journey in flat arrays, ready for vectorised models."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from promptsales.domain_core.shared.errors import ValidationFailed

# Channel names that last_non_direct skips unless a journey has nothing else: a direct visit usually means the
# customer already knew the brand, so the credit goes to the channel that brought them there.
DIRECT_CHANNELS = frozenset({"direct"})

# Ages are floats in days; a later touch may be a hair older than an earlier one after unit conversions.
_AGE_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Journeys:
    """Journeys as flat arrays: touch codes and ages per touch, conversion and value per journey."""

    channels: tuple[str, ...]
    offsets: np.ndarray
    codes: np.ndarray
    ages: np.ndarray
    converted: np.ndarray
    value: np.ndarray

    def __post_init__(self) -> None:
        """Check shapes and ranges once, so every model can trust the arrays."""
        if self.converted.ndim != 1 or self.converted.dtype != np.bool_:
            raise ValidationFailed("converted must be a flat array of booleans.", field="converted")
        n = self.converted.shape[0]
        if self.offsets.ndim != 1 or self.offsets.shape[0] != n + 1 or int(self.offsets[0]) != 0:
            raise ValidationFailed("offsets must hold one entry per journey plus a leading 0.", field="offsets")
        if np.any(np.diff(self.offsets) <= 0):
            raise ValidationFailed("Every journey needs at least one touch (offsets must increase).", field="offsets")
        touches = int(self.offsets[-1])
        if self.codes.shape != (touches,) or self.ages.shape != (touches,):
            raise ValidationFailed(f"codes and ages must hold {touches} touches.", field="codes")
        if self.value.shape != (n,):
            raise ValidationFailed(f"value must hold {n} journeys.", field="value")
        if touches and (int(self.codes.min()) < 0 or int(self.codes.max()) >= len(self.channels)):
            raise ValidationFailed("A touch refers to a channel code outside channels.", field="codes")
        if touches and not (np.all(np.isfinite(self.ages)) and float(self.ages.min()) >= 0):
            raise ValidationFailed("Touch ages must be finite days >= 0.", field="ages")
        if n and not (np.all(np.isfinite(self.value)) and float(self.value.min()) >= 0):
            raise ValidationFailed("Journey values must be finite amounts >= 0.", field="value")

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[Sequence[tuple[str, float]]],
        converted: Sequence[bool],
        values: Sequence[float],
    ) -> "Journeys":
        """Build from per-journey lists of (channel, age_days) in time order; journeys without touches are dropped."""
        if len(converted) != len(paths):
            raise ValidationFailed(f"converted has {len(converted)} entries for {len(paths)} paths.", field="converted")
        if len(values) != len(paths):
            raise ValidationFailed(f"values has {len(values)} entries for {len(paths)} paths.", field="values")
        names: list[str] = []
        ages: list[float] = []
        lengths: list[int] = []
        for path in paths:
            lengths.append(len(path))
            for channel, age in path:
                if not isinstance(channel, str) or not channel.strip():
                    raise ValidationFailed("Every touch needs a non-empty channel name.", field="paths")
                if not math.isfinite(age) or age < 0:
                    raise ValidationFailed(f"Touch age {age!r} must be finite days >= 0.", field="paths")
                names.append(channel)
                ages.append(float(age))
        value = np.asarray(values, dtype=np.float64)
        if value.size and not (np.all(np.isfinite(value)) and float(value.min()) >= 0):
            raise ValidationFailed("Journey values must be finite amounts >= 0.", field="values")
        keep = np.asarray(lengths, dtype=np.int64) > 0
        channels, inverse = np.unique(np.asarray(names, dtype=object), return_inverse=True)
        offsets = np.concatenate(([0], np.cumsum(np.asarray(lengths, dtype=np.int64)[keep])))
        age_arr = np.asarray(ages, dtype=np.float64)
        if age_arr.size:
            # Touches come in time order, so the time left to the journey's end can only shrink along a journey.
            rising = np.diff(age_arr) > _AGE_SLACK
            rising[offsets[1:-1] - 1] = False  # the step from one journey's last touch to the next one's first
            if np.any(rising):
                raise ValidationFailed(
                    "Touches must be in time order: ages (days to the journey's end) cannot grow along a journey.",
                    field="paths",
                )
        conv = np.asarray(converted, dtype=bool)[keep]
        # A journey without a conversion has nothing to share, whatever value was passed along.
        return cls(
            channels=tuple(str(c) for c in channels),
            offsets=offsets.astype(np.int64),
            codes=np.asarray(inverse, dtype=np.int32).reshape(-1),
            ages=age_arr,
            converted=conv,
            value=np.where(conv, value[keep], 0.0),
        )

    @property
    def n_journeys(self) -> int:
        """How many journeys there are."""
        return int(self.converted.shape[0])

    @property
    def n_touches(self) -> int:
        """How many touches all journeys hold together."""
        return int(self.codes.shape[0])

    @property
    def n_conversions(self) -> int:
        """How many journeys ended in a conversion."""
        return int(np.count_nonzero(self.converted))

    def lengths(self) -> np.ndarray:
        """Touches per journey."""
        return np.diff(self.offsets)

    def journey_of_touch(self) -> np.ndarray:
        """The journey index of every touch."""
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths())
