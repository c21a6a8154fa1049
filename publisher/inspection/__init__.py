"""Inspection (定期清查): what is live, checked against what was approved and against the national
checklist for government websites and new media. `run.inspect` is the one entry point."""
