"""The delivery engine: scheduling, claiming with leases, performing through channel adapters."""
