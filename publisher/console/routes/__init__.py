"""The console's pages, one router per area (listed in publisher/console/app.py)."""
