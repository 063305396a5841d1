"""Run identity: the evaluation and data-stream rules are part of a run's fingerprint, so runs made with another rule
are never reused."""
from sweep import identity
from tests.conftest import make_config


def test_the_evaluation_rule_changes_every_fingerprint(monkeypatch):
    cfg = make_config()
    own = identity.config_fingerprint(cfg)
    monkeypatch.setattr(identity, "EVAL_RULE", "job")  # the job-wide batch count of the code before issue 22
    assert identity.config_fingerprint(cfg) != own


def test_the_data_stream_rule_changes_every_fingerprint(monkeypatch):
    cfg = make_config()
    seed = identity.config_fingerprint(cfg)
    monkeypatch.setattr(identity, "DATA_RULE", "seed-density")  # a stream per (seed, density): the code before issue 25
    assert identity.config_fingerprint(cfg) != seed
