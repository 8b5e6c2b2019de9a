"""Suite scheduling (``opencdmo-schedule/1``): batches on suites, on CP-SAT with a greedy start."""
