"""Solver plumbing shared by the problem classes: HiGHS, CP-SAT and forked searches."""
