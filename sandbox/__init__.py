"""A local emulator of the integrator.io API; see sandbox/README.md."""
