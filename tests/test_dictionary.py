"""decode.dictionary: a dictionary's targets join the beam, scored by the model."""

from click.testing import CliRunner

import translit
from translit.cli import main
from translit.decoding.likelihood import forced_scores
from translit.text.word_prior import WordPrior

from helpers import write_lines


def test_a_dictionary_target_joins_the_beam_with_its_model_score(trained_run, tmp_path):
    """A target the beam lacks is scored by forced decoding over the length penalty; a word
    prior that knows it lifts it to the top."""
    run_dir = trained_run["run_dir"]
    dictionary = write_lines(tmp_path / "dict.tsv", ["ABCD\thhhh", "abcd\tdcba", "efg\tgfe"])
    prior = write_lines(tmp_path / "prior.txt", ["hhhh"] * 50 + ["other words"])
    options = dict(beam=2, word_prior=prior, word_prior_weight=100)
    plain = translit.load(run_dir, **options).translate("abcd", n_best=2)
    assert "hhhh" not in [hyp.text for hyp in plain]
    model = translit.load(run_dir, dictionary=dictionary, **options)
    first, second = model.translate("abcd", n_best=2)  # "ABCD" is case folded
    (log_prob, tokens), = forced_scores(run_dir, ["abcd"], ["hhhh"])["scores"]
    expected = log_prob / ((5 + tokens) / 6) ** 0.6 + 100 * WordPrior.load(prior, 1).log_prob(
        "hhhh")
    assert first.text == "hhhh" and abs(first.score - expected) < 1e-2
    assert second == plain[0]  # "dcba", already in the beam, is not added twice
    assert model.describe()["dictionary"] == dictionary


def test_a_frequent_dictionary_word_wins_from_the_cli(trained_run, tmp_path):
    run_dir = trained_run["run_dir"]
    (tmp_path / "dict").mkdir()
    write_lines(tmp_path / "dict" / "a.tsv", ["efg\tgfe"])
    write_lines(tmp_path / "dict" / "b.tsv", ["abcd\thhhh"])
    dictionary = str(tmp_path / "dict" / "*.tsv")  # a glob pattern: both files
    prior = write_lines(tmp_path / "prior.txt", ["hhhh"] * 50 + ["other words"])
    source = write_lines(tmp_path / "in.txt", ["abcd"])
    options = ["translate", source, "-m", run_dir, "--beam", "2", "--word-prior", prior,
               "--word-prior-weight", "100"]
    assert CliRunner().invoke(main, options).stdout == "dcba\n"
    chosen = CliRunner().invoke(main, options + ["--dictionary", dictionary])
    assert chosen.exit_code == 0 and chosen.stdout == "hhhh\n"
    bad = write_lines(tmp_path / "bad.tsv", ["abcd\thhhh", "no tab here"])
    refused = CliRunner().invoke(main, options + ["--dictionary", bad])
    assert refused.exit_code == 1 and "bad.tsv, line 2" in refused.output
    export = tmp_path / "export"
    CliRunner().invoke(main, ["export", str(export), "-m", run_dir])
    refused = CliRunner().invoke(main, ["translate", source, "-m", str(export), "--dictionary",
                                        dictionary])
    assert refused.exit_code == 1 and "needs one run directory" in refused.output
