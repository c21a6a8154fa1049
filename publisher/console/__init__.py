"""The staff console: a server-rendered web app (FastAPI + Jinja2) for writers, reviewers, leaders and the
duty editor; views/ holds the read models its pages render."""
