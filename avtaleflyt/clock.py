"""The one place that reads the wall clock; everything below takes the date as a parameter."""

import datetime as dt

import pendulum

TZ = "Europe/Oslo"


def today() -> dt.date:
    return pendulum.now(TZ).date()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def aware(value: dt.datetime) -> dt.datetime:
    """A naive datetime as UTC (SQLite gives naive ones back)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
