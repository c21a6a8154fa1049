<<<<<<< HEAD
"""The staff console: a server-rendered web app (FastAPI + Jinja2) for writers, reviewers, leaders and the duty editor."""
=======
"""The staff console: read models the pages render (views/), and the app that serves them."""
>>>>>>> views
