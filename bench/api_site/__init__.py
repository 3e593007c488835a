"""The service's settings and URLs plus one bare DRF view, for bench/api.py only."""
