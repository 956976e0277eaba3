import os

# Ray replaces a loopback address with the machine's network address unless it believes it runs
# on a single desktop node; tests keep every Ray process on 127.0.0.1. Set before Ray is imported.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import numpy as np
import pytest

import sim2real

SMALL = (64, 48)


@pytest.fixture
def blind_env():
    """click_bell without cameras (physics only)."""
    env = sim2real.make("click_bell", cameras=())
    yield env
    env.close()


@pytest.fixture
def small_env():
    """click_bell with all three cameras at a small size."""
    env = sim2real.make("click_bell", image_size=SMALL)
    yield env
    env.close()


def rollout(env, seed: int) -> tuple[list[np.ndarray], list[dict]]:
    """Run the expert and collect every commanded action and observation."""
    from sim2real.experts.runner import ScriptedExpert

    actions, observations = [], []

    def record(observation, action, _info):
        actions.append(np.array(action))
        observations.append(observation)

    ScriptedExpert(env).run(seed, record)
    return actions, observations


@pytest.fixture(scope="session")
def click_bell_demos(tmp_path_factory):
    """Two real click_bell expert demos, head camera at 48 x 48 (no shadow map or MSAA, which
    set the cost on CPU): the training tests' dataset."""
    from sim2real.data.generate import GenerateSpec, generate
    from sim2real.settings import make_settings

    settings = make_settings(cameras=("head",), image_size=(48, 48), render={"shadows": False, "msaa": 0})
    root = tmp_path_factory.mktemp("demos") / "click_bell"
    generate(GenerateSpec("click_bell", settings.model_dump(mode="json"), episodes=2, first_seed=0), root)
    return root


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on 127.0.0.1 for the whole session (see tests/postgres.py)."""
    from postgres import PostgresServer, binaries

    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (Debian's postgresql) are not installed; "
                    "scripts/setup.sh installs them")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A fresh, empty trial database: a SQLite file, then a database on a real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "trials.sqlite")
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"t{abs(hash(request.node.nodeid)) % 10**9}_{os.getpid()}")
