"""pytest plugin: fixtures that start the Kimi emulator."""
