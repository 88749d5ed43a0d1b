"""The word-frequency prior: counts of native-script text rerank a word model's beam."""

import math

import pytest
from click.testing import CliRunner

import translit
from translit.cli import main
from translit.errors import UserError
from translit.text.word_prior import WordPrior

from helpers import write_lines, write_recipe


def test_counts_smoothing_and_reranking(tmp_path):
    text = write_lines(tmp_path / "text.txt", ["में एक, में।", "एक में"])
    prior = WordPrior.load(text, weight=2.0)
    assert prior.counts == {"में": 3, "एक": 2}
    assert prior.log_prob("में") == pytest.approx(math.log(3.1 / 5.2))
    assert prior.log_prob("मेन") == pytest.approx(math.log(0.1 / 5.2))
    assert prior.log_prob("में एक.") == pytest.approx(math.log(3.1 / 5.2) + math.log(2.1 / 5.2))
    (reranked,) = prior.rerank(["men"], [[("मेन", -0.5), ("में", -1.0)]])
    assert [text for text, _ in reranked] == ["में", "मेन"]
    assert reranked[0][1] == pytest.approx(-1.0 + 2.0 * math.log(3.1 / 5.2))
    again = WordPrior.load(prior.save(str(tmp_path)), weight=2.0)  # word_prior.tsv
    assert again.counts == prior.counts


def test_bad_prior_files_are_named(tmp_path):
    with pytest.raises(UserError, match="nope.txt not found"):
        WordPrior.load(str(tmp_path / "nope.txt"), 1.0)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(UserError, match="bad.txt is not UTF-8"):
        WordPrior.load(str(bad), 1.0)
    tsv = write_lines(tmp_path / "counts.tsv", ["word\tmany"])
    with pytest.raises(UserError, match="expected 'WORD<TAB>COUNT'"):
        WordPrior.load(tsv, 1.0)


def test_a_frequent_word_wins_the_beam_from_the_cli(trained_run, tmp_path):
    run_dir = trained_run["run_dir"]
    beam = translit.load(run_dir, beam=3).translate(["abcd"], n_best=3)[0]
    third = beam[2].text
    prior = write_lines(tmp_path / "prior.txt", [third] * 50 + ["other words"])
    source = write_lines(tmp_path / "in.txt", ["abcd"])
    plain = CliRunner().invoke(main, ["translate", source, "-m", run_dir, "--beam", "3"])
    ranked = CliRunner().invoke(main, ["translate", source, "-m", run_dir, "--beam", "3",
                                       "--word-prior", prior, "--word-prior-weight", "100"])
    assert plain.stdout == "dcba\n" and ranked.stdout == third + "\n"
    weightless = translit.load(run_dir, beam=3, word_prior=prior, word_prior_weight=0)
    assert weightless.translate(["abcd"]) == ["dcba"]
    missing = CliRunner().invoke(main, ["translate", source, "-m", run_dir, "--word-prior",
                                        str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "nope.txt not found" in missing.output


@pytest.mark.slow
def test_exports_carry_the_recipes_prior(tmp_path):
    prior = write_lines(tmp_path / "prior.txt", ["hgf hgf edc", "cba"])
    recipe = write_recipe(tmp_path, train={"max_steps": 30},
                          decode={"beam_size": 3, "word_prior": prior,
                                  "word_prior_weight": 3.0})
    run_dir = str(tmp_path / "run")
    assert CliRunner().invoke(main, ["train", recipe, "--run-dir", run_dir]).exit_code == 0
    lines = ["abc", "fgh", "cde", "abcdef"]
    expected = translit.load(run_dir).translate(lines, n_best=3)
    for options in ([], ["--format", "litert"]):
        export_dir = str(tmp_path / f"export{len(options)}")
        done = CliRunner().invoke(main, ["export", export_dir, "-m", run_dir, *options])
        assert done.exit_code == 0, done.output
        got = translit.load(export_dir).translate(lines, n_best=3)
        assert [[h.text for h in hyps] for hyps in got] == [[h.text for h in hyps]
                                                            for hyps in expected]
