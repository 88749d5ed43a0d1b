"""benchmarks/race.py on a toy run: a mark copies the newest checkpoint, its copy is translated
and scored as the race does, the results plot; entrant specs and OpenNMT-tf pieces parse."""

import importlib.util
import os

import pytest

from helpers import REPO

spec = importlib.util.spec_from_file_location("race", os.path.join(REPO, "benchmarks",
                                                                   "race.py"))
race = importlib.util.module_from_spec(spec)
spec.loader.exec_module(race)


def test_a_mark_copies_the_newest_checkpoint_and_the_copy_is_scored(trained_run, tmp_path):
    from translit.recipe import load_recipe

    run_dir = trained_run["run_dir"]
    recipe = load_recipe(os.path.join(run_dir, "recipe.yaml"))
    core = sorted(os.sched_getaffinity(0))[0]
    entrant = race.Entrant({"name": "toy", "kind": "translit", "recipe": "", "overrides": []},
                           str(tmp_path), core)
    checkpoints = os.path.join(run_dir, "checkpoints")
    newest = race.newest_checkpoint(checkpoints)
    # As if the training had started 30 s before it wrote its newest checkpoint.
    entrant.run_dir, entrant.started = run_dir, os.path.getmtime(newest + ".index") - 30
    entrant.checkpoint_dir = str(tmp_path / "nothing yet")
    entrant.take_mark(0.5)  # before the first save
    entrant.checkpoint_dir = checkpoints
    entrant.take_mark(1.5)
    first, second = entrant.marks
    assert first["checkpoint"] is None and first["step"] == 0
    assert second["step"] == race.checkpoint_step(newest) and second["minute"] == 0.5
    assert os.path.exists(second["checkpoint"] + ".index")
    assert second["checkpoint"].startswith(str(tmp_path))

    race.score_marks([entrant], {"test": recipe.data.valid}, [core], ["chrf", "accuracy"])
    assert "test_chrf" not in first
    assert second["test_chrf"] > 90 and second["test_accuracy"] > 80  # about 99% exact
    result = {"machine": {"cpu": "toy"}, "metrics": ["accuracy"],
              "entrants": {"toy": {"marks": entrant.marks}}}
    race.plot(result, str(tmp_path / "race.png"))
    with open(tmp_path / "race.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_entrant_specs_and_pieces_parse():
    assert race.parse_translit("small=r.yaml train.batch_tokens=1024 model.dropout=0.2") == {
        "name": "small", "kind": "translit", "recipe": "r.yaml",
        "overrides": ["train.batch_tokens=1024", "model.dropout=0.2"]}
    with pytest.raises(SystemExit, match="NAME=RECIPE"):
        race.parse_translit("r.yaml")
    assert race.detokenize_pieces("\u2581A \u2581m an \u2581sings .\n") == "A man sings."
    assert race.checkpoint_step("/x/marks/m5/ckpt-1200") == 1200


def test_training_rates_are_the_median_of_the_log_windows_after_the_first(tmp_path):
    translit = race.Entrant({"name": "t", "kind": "translit"}, str(tmp_path), 0)
    translit.run_dir = str(tmp_path)
    with open(tmp_path / "metrics.jsonl", "w", encoding="utf-8") as f:
        for rate in (100.0, 1900.0, 2100.0, 2000.0):
            f.write(f'{{"type": "train", "target_tokens_per_s": {rate}}}\n')
        f.write('{"type": "dev", "bleu": 3.0}\n')
    assert translit.training_rate() == 2000
    peer = race.Entrant({"name": "p", "kind": "opennmt"}, str(tmp_path), 1)
    os.makedirs(peer.dir)
    with open(os.path.join(peer.dir, "train.log"), "w", encoding="utf-8") as f:
        f.write("Step = 100 ; steps/s = 1.00, tokens/s = 900 (450 source, 450 target) ; x\n")
    assert peer.training_rate() is None  # the first window only
    with open(os.path.join(peer.dir, "train.log"), "a", encoding="utf-8") as f:
        f.write("Step = 200 ; steps/s = 3.02, tokens/s = 5851 (2880 source, 2971 target) ; x\n")
    assert peer.training_rate() == 2971


def test_peer_variants_parse_and_change_the_reference_configuration():
    peer = race.parse_peer("old=train.length_bucket_width=1 params.clip_gradients=5.0 "
                           "model.attention_layer_activation=tanh vocabulary=joint")
    assert peer == {"name": "old", "kind": "opennmt", "changes": {
        "train.length_bucket_width": 1, "params.clip_gradients": 5.0,
        "model.attention_layer_activation": "tanh", "vocabulary": "joint"}}
    config = {"params": {"optimizer": "Adam"}, "train": {"batch_size": 64}}
    assert race.apply_changes(config, peer["changes"]) == {
        "model.attention_layer_activation": "tanh", "vocabulary": "joint"}
    assert config == {"params": {"optimizer": "Adam", "clip_gradients": 5.0},
                      "train": {"batch_size": 64, "length_bucket_width": 1}}
    assert race.apply_changes(config, {}) == {"model.attention_layer_activation": "none",
                                              "vocabulary": "sides"}
    assert race.parse_peer("reference")["changes"] == {}
    for bad in ("=train.batch_size=32", "old=clip", "old=model.layers=3", "old=vocabulary=8k",
                "old=model.attention_layer_activation=relu"):
        with pytest.raises(SystemExit, match="--peer"):
            race.parse_peer(bad)
