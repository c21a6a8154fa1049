"""Editorial review (三审三校): users and roles, the configured chain, acts bound to revisions, the gate."""
