"""The noisy channel (decode.channel): a model of the reverse direction reranks the beam."""

from click.testing import CliRunner

import translit
from translit.cli import main
from translit.decoding.likelihood import forced_scores

from helpers import copy_run_with_decode, write_lines


def test_the_reverse_models_log_probability_is_added_to_each_hypothesis(trained_run):
    """Reversal is its own reverse: the trained model serves as its own channel model."""
    run_dir = trained_run["run_dir"]
    plain = translit.load(run_dir, beam=3).translate("abcd", n_best=3)
    rescored = translit.load(run_dir, beam=3, channel=run_dir, channel_weight=0.5)
    reverse = forced_scores(run_dir, [hyp.text for hyp in plain], ["abcd"] * 3)["scores"]
    expected = sorted(((hyp.text, hyp.score + 0.5 * log_prob)
                       for hyp, (log_prob, _) in zip(plain, reverse)), key=lambda h: -h[1])
    assert [(h.text, round(h.score, 3)) for h in rescored.translate("abcd", n_best=3)] == \
        [(text, round(score, 3)) for text, score in expected]
    assert rescored.describe()["channel"] == {"path": run_dir, "weight": 0.5, "top": 0}
    top_two = translit.load(run_dir, beam=3, channel=run_dir, channel_weight=0.5, channel_top=2)
    assert [h.text for h in top_two.translate("abcd", n_best=3)] == \
        [text for text, _ in expected]  # as many as asked for are scored, at least


def test_a_candidate_that_does_not_give_the_source_back_loses_from_the_cli(trained_run,
                                                                           tmp_path):
    """A word prior that favours the third hypothesis wins the beam; the channel, which finds
    that hypothesis unlikely to be written "abcd", takes it back."""
    run_dir = trained_run["run_dir"]
    third = translit.load(run_dir, beam=3).translate("abcd", n_best=3)[2].text
    prior = write_lines(tmp_path / "prior.txt", [third] * 50 + ["other words"])
    source = write_lines(tmp_path / "in.txt", ["abcd"])
    options = ["translate", source, "-m", run_dir, "--beam", "3", "--word-prior", prior,
               "--word-prior-weight", "100"]
    by_prior = CliRunner().invoke(main, options)
    by_channel = CliRunner().invoke(main, options + ["--channel", run_dir,
                                                     "--channel-weight", "1000"])
    assert by_prior.stdout == third + "\n" and by_channel.stdout == "dcba\n"
    only_first = CliRunner().invoke(main, options + ["--channel", run_dir, "--channel-weight",
                                                     "1000", "--channel-top", "1"])
    assert only_first.stdout == third + "\n"  # the channel scored the prior's choice alone
    alone = CliRunner().invoke(main, options + ["--channel-top", "1"])
    assert alone.exit_code == 1 and "give channel (--channel) too" in alone.output
    missing = CliRunner().invoke(main, options + ["--channel", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "train the reverse model first" in missing.output


def test_the_recipe_attaches_the_channel_and_exports_refuse_it(trained_run, tmp_path):
    run_dir = copy_run_with_decode(trained_run["run_dir"], tmp_path / "run",
                                   channel=trained_run["run_dir"], channel_weight=2.0,
                                   channel_top=4)
    assert translit.load(run_dir).describe()["channel"] == {"path": trained_run["run_dir"],
                                                            "weight": 2.0, "top": 4}
    refused = CliRunner().invoke(main, ["export", str(tmp_path / "x"), "-m", run_dir])
    assert refused.exit_code == 1 and "decode.channel" in refused.output
    assert "--without-lm" in refused.output
