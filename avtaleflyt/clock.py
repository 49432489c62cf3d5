"""The one place that reads the wall clock; everything below takes the date as a parameter."""

import datetime as dt

import pendulum

TZ = "Europe/Oslo"


def today() -> dt.date:
    return pendulum.now(TZ).date()
