"""CP-SAT: status translation and the result of a minimisation."""
