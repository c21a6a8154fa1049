"""Adversarial tests: each class of evasion a careless or hostile author may try, with several
variants, run against the review checks and every channel's output. Add a class with every new
way around a check that is found; never remove one."""
