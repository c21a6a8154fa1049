"""Campaigns, key dates and the working-day calendar: when things are due (`schedules/`)."""

from publisher.schedule.load import check_schedules, load_schedules
from publisher.schedule.schedules import Campaign, Schedules, Slot

__all__ = ["Campaign", "Schedules", "Slot", "check_schedules", "load_schedules"]
