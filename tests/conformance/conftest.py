"""The conformance tests: the emulator judged against recorded real traffic."""
