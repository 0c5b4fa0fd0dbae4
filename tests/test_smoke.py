import kimi_core


def test_version() -> None:
    assert kimi_core.__version__
