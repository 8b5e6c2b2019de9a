"""Pure engines: numbers in, numbers out. Nothing here imports Django or the platform."""
