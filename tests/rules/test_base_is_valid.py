from tests.rules.conftest import World


def test_the_base_world_is_valid(world: World) -> None:
    result = world.with_()
    assert [f.text() for f in result.findings] == []
