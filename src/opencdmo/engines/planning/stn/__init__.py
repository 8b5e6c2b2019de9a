"""State-Task Network batch scheduling (``opencdmo-stn/1``): a discrete-time MILP on HiGHS."""
