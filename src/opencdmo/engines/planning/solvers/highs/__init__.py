"""HiGHS: the model bridge, phased solves and racing seeded searches."""
