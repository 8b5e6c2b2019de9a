"""Campaign planning (``opencdmo-campaign/1``): the Lakhdar et al. (2005) MILP on HiGHS, with sites."""
