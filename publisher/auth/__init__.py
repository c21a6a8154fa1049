"""Who is acting: staff sign in with their argon2 password (and a TOTP code where the newsroom
requires one) and act through a console session or a personal command-line token; the engine acts
as its service account. Every sign-in, failure, lockout and token issue or revoke is audited."""
