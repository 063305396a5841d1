"""sweep/timing.py: what a run records of its time, and the dry run's estimate scaled from the nearest recorded run."""
import json

import pytest

from sweep import timing
from tests.conftest import make_config


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "tms-sweep" / "rates.json"


def test_no_recorded_run_no_estimate(cache):
    assert timing.estimate(1000, 10) is None
    assert "no time estimate" in timing.said(None) and str(cache) in timing.said(None)


def test_a_run_records_its_work_and_times(cache):
    config = make_config(model={"n_features": 5, "n_hidden": 2}, batch_size=64)
    timing.record(config, 6, 100, 3.0, 1.0)
    assert json.loads(cache.read_text()) == [{"work_per_step": 6 * 64 * 5 * 2, "steps": 100, "wall_seconds": 3.0,
                                               "compile_seconds": 1.0, "kind": "relu", "models": 6}]
    timing.record(config, 6, 0, 3.0, 1.0)  # nothing trained (e.g. resumed at the last step): nothing recorded
    assert len(timing.recorded()) == 1


def test_the_estimate_scales_the_nearest_run_in_work_per_step(cache):
    cache.parent.mkdir(parents=True)
    small = {"work_per_step": 100, "steps": 10, "wall_seconds": 11.0, "compile_seconds": 1.0, "kind": "relu", "models": 1}
    large = {"work_per_step": 100_000, "steps": 10, "wall_seconds": 3.0, "compile_seconds": 2.0, "kind": "relu", "models": 9}
    cache.write_text(json.dumps([small, large]))
    seconds, nearest = timing.estimate(200, 30)  # 10 s per 1,000 work-steps: 1 + 10 x 6
    assert nearest == small and seconds == pytest.approx(61.0)
    seconds, nearest = timing.estimate(50_000, 10)  # 1 s per 1e6 work-steps: 2 + 0.5
    assert nearest == large and seconds == pytest.approx(2.5)
    assert "about 2.5 s" in timing.said((seconds, nearest))
    short = {**small, "work_per_step": 50_000, "steps": 10}
    long = {**large, "steps": timing.LONG}
    cache.write_text(json.dumps([short, long]))
    assert timing.estimate(50_000, 10)[1] == long  # a short run's time is mostly compile: the long one is used


def test_an_unwritable_or_corrupt_cache_only_loses_estimates(cache):
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    assert timing.recorded() == [] and timing.estimate(10, 10) is None
    cache.unlink()
    cache.mkdir()  # a dir in the way: recording is skipped, the run goes on
    timing.record(make_config(), 6, 100, 3.0, 1.0)
    assert cache.is_dir()


def test_durations_read_as_people_say_them():
    assert [timing.duration(s) for s in (2.46, 42.4, 150, 7200)] == ["2.5 s", "42 s", "2.5 min", "2 h"]
