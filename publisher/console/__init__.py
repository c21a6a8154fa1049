"""The staff console: read models the pages render (views/), and the app that serves them."""
