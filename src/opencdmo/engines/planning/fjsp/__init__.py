"""Flexible job shop (Brandimarte ``.fjs``): the public yardstick of the CP-SAT search."""
