"""The model family: the CIFG cell against its equations, and every attention type, cell and
encoder option building, training a few steps through ``translit train`` and decoding."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from translit.cli import main
from translit.models import Seq2Seq, build_model, trackable_weights
from translit.models.cells import LSTM, CIFGCell
from translit.runs.checkpoints import restore_weights

from helpers import write_lines, write_recipe


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_cifg_cell_follows_its_equations():
    units, features = 3, 2
    rng = np.random.default_rng(0)
    cell = CIFGCell(units)
    cell.build((None, features))
    w, u, b = (rng.normal(size=v.shape).astype("float32") for v in cell.weights)
    cell.set_weights([w, u, b])
    x = rng.normal(size=(4, features)).astype("float32")
    h, c = (rng.normal(size=(4, units)).astype("float32") for _ in range(2))

    output, (new_h, new_c) = cell(x, [h, c])

    z = x @ w + h @ u + b
    f, o, g = _sigmoid(z[:, :units]), _sigmoid(z[:, units:2 * units]), np.tanh(z[:, 2 * units:])
    expected_c = f * c + (1 - f) * g  # the input gate is 1 - f
    expected_h = o * np.tanh(expected_c)
    np.testing.assert_allclose(new_c, expected_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_h, expected_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(output, expected_h, rtol=1e-5, atol=1e-6)
    assert len(cell.weights) == 3 and cell.weights[1].shape == (units, 3 * units)


@pytest.mark.parametrize("jit", [False, True])
def test_lstm_with_its_input_projection_out_of_the_loop_equals_keras_lstm(jit):
    """Outputs, final states and gradients, with padded sentences and a given initial state."""
    x, mask = tf.random.normal([3, 7, 5]), tf.sequence_mask([7, 4, 1], 7)
    state = [tf.random.normal([3, 6]), tf.random.normal([3, 6])]
    ours = LSTM(6, return_sequences=True, return_state=True)
    keras_lstm = keras.layers.LSTM(6, return_sequences=True, return_state=True)
    ours(x, mask=mask, initial_state=state)
    keras_lstm(x, mask=mask, initial_state=state)
    keras_lstm.set_weights(ours.get_weights())

    def outputs_and_gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x, mask=mask, initial_state=state)
            loss = sum(tf.reduce_sum(tf.sin(y)) for y in outputs)
        return outputs, tape.gradient(loss, [x, *layer.trainable_weights])

    run = tf.function(outputs_and_gradients, jit_compile=True) if jit else outputs_and_gradients
    for mine, theirs in zip(tf.nest.flatten(run(ours)),
                            tf.nest.flatten(outputs_and_gradients(keras_lstm))):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-5)


def test_cifg_forget_gate_starts_open():
    cell = CIFGCell(4)
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.bias.numpy()[:4], 1.0)


def test_residual_and_bidirectional_shapes():
    config = dict(embedding_dim=8, units=16, layers=3, dropout=0.0, bidirectional=True,
                  residual=True, attention="dot")
    model = build_model(10, 12, **config)
    source = tf.constant([[4, 5, 6, 3], [7, 3, 0, 0]])
    logits, weights = model.forced(source, tf.constant([[2, 4, 5], [2, 6, 0]]))
    assert logits.shape == (2, 3, 12) and weights.shape == (2, 3, 4)
    np.testing.assert_array_equal(weights.numpy()[1, :, 2:], 0.0)  # padding is not attended


@pytest.mark.parametrize("options", [{}, {"attention": "general", "tie_embeddings": True}])
def test_logits_at_kept_positions_equal_the_full_logits(options):
    model = build_model(10, 12, embedding_dim=8, units=16, layers=2, dropout=0.0, **options)
    source, target_in = tf.constant([[4, 5, 6, 3], [7, 3, 0, 0]]), tf.constant([[2, 4, 5],
                                                                               [2, 6, 0]])
    keep = tf.not_equal(target_in, 0)  # (2, 3): 5 positions
    full = model((source, target_in))
    kept = model((source, target_in), keep=keep)
    assert kept.shape == (5, 12)
    np.testing.assert_allclose(kept, tf.boolean_mask(full, keep), rtol=1e-5, atol=1e-6)


def test_source_reversal_keeps_outputs_in_source_order():
    keras.utils.set_random_seed(1)
    config = dict(embedding_dim=8, units=8, layers=1, dropout=0.0)
    plain = build_model(10, 10, **config)
    reversed_ = build_model(10, 10, reverse_source=True, **config)
    reversed_.set_weights(plain.get_weights())
    source = tf.constant([[4, 5, 6, 3, 0]])
    backwards = tf.constant([[3, 6, 5, 4, 0]])
    outputs, states = reversed_.encoder(source)
    plain_outputs, plain_states = plain.encoder(backwards)
    np.testing.assert_allclose(states[0][0], plain_states[0][0], rtol=1e-5)
    np.testing.assert_allclose(outputs[0, :4], plain_outputs[0, 3::-1], rtol=1e-5)


def test_tied_embeddings_share_the_matrix():
    config = dict(embedding_dim=8, units=16, layers=1, dropout=0.0, tie_embeddings=True)
    model = build_model(10, 12, **config)
    paths = [w.path for w in model.weights]
    assert "seq2seq/decoder/projection/kernel" not in paths
    assert "seq2seq/decoder/pre_projection/kernel" in paths  # 16 units -> 8 embedding dims


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_input_feeding_teacher_forcing_equals_the_steps_of_search(cell):
    """Training's loop over time and search's steps compute the same logits with the same
    weights, named by their layers."""
    model = build_model(10, 12, embedding_dim=8, units=16, layers=2, dropout=0.0, cell=cell,
                        attention="general", input_feeding=True)
    assert f"seq2seq/decoder/{cell}_0/{cell}_cell/kernel" in [w.path for w in model.weights]
    source = tf.constant([[4, 5, 6, 3], [7, 3, 0, 0]])
    target_in = tf.constant([[2, 4, 5], [2, 6, 7]])
    forced, _ = model.forced(source, target_in)  # (2, 3, 12)
    context, state = model.encode(source)
    for t in range(3):
        logits, state, _ = model.decode_step(target_in[:, t], state, context)
        np.testing.assert_allclose(logits, forced[:, t], rtol=1e-5, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("input_feeding", [False, True])
def test_dropout_falls_where_its_keys_say(input_feeding):
    """In training mode, `output_dropout` alone changes the logits but not the attention
    weights (nor so the states and fed vectors: a fed vector is the one before dropout);
    `embedding_dropout` alone changes both; with every rate 0 training equals inference."""
    source, target_in = tf.constant([[4, 5, 6, 3], [7, 8, 3, 0]]), tf.constant([[2, 4, 5]] * 2)

    def inference_and_training(**rates):
        model = build_model(10, 12, embedding_dim=8, units=16, layers=2, attention="general",
                            input_feeding=input_feeding, **{"dropout": 0.0, **rates})
        return [model.forced(source, target_in, training=training) for training in (False, 1)]

    def same(a, b):  # the same computation gives the same bits (fresh weights attend ~evenly)
        return np.array_equal(a, b)

    (logits, weights), (train_logits, train_weights) = inference_and_training()
    assert same(logits, train_logits) and same(weights, train_weights)
    (logits, weights), (train_logits, train_weights) = inference_and_training(output_dropout=0.5)
    assert not same(logits, train_logits) and same(weights, train_weights)
    (logits, weights), (train_logits, train_weights) = inference_and_training(
        embedding_dropout=0.5)
    assert not same(weights, train_weights)
    for embedding_dropout, expected in ((None, 0.3), (0.0, 0.0)):  # absent: `dropout`'s
        model = build_model(10, 12, embedding_dim=8, units=16, dropout=0.3,
                            embedding_dropout=embedding_dropout)
        assert (model.encoder.embedding_dropout.rate, model.decoder.embedding_dropout.rate,
                model.encoder.dropout.rate) == (expected, expected, 0.3)


OPTIONS = {
    "lstm-state-vector": {},
    "gru-dot": {"cell": "gru", "attention": "dot"},
    "cifg-general": {"cell": "cifg", "attention": "general"},
    "bahdanau-input-feeding": {"attention": "bahdanau", "input_feeding": True},
    "bidirectional-residual-reversed-tied": {
        "attention": "general", "input_feeding": True, "bidirectional": True, "residual": True,
        "reverse_source": True, "tie_embeddings": True, "layers": 2},
    "gru-bidirectional": {"cell": "gru", "bidirectional": True, "attention": "dot"},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", OPTIONS)
def test_model_options_train_and_translate(name, tmp_path):
    recipe = write_recipe(tmp_path, train_size=200, valid_size=20, model=OPTIONS[name],
                          train={"max_steps": 4, "checkpoint_every": 4})
    runner = CliRunner()
    result = runner.invoke(main, ["train", recipe, "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    final = json.loads(result.output.strip().splitlines()[-1])
    assert final["type"] == "final" and np.isfinite(final["valid_loss"])
    source = write_lines(tmp_path / "in.txt", ["abcd", "hgf"])
    result = runner.invoke(main, ["translate", source, "-m", str(tmp_path / "run"), "--beam", "3"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 2


@pytest.mark.slow
@pytest.mark.parametrize("name", OPTIONS)
def test_a_checkpoint_restores_every_weight(name, tmp_path):
    """Every weight has its own path, so a checkpoint (weights named by path) holds them all and
    a model built again from the options translates as the saved one. (A two-layer decoder with
    input feeding once gave both layers' cells one path: the saved checkpoint kept one layer.)"""
    options = {"embedding_dim": 8, "units": 16, "layers": 2, "dropout": 0.0, **OPTIONS[name]}
    saved, rebuilt = (build_model(10, 12, **options) for _ in range(2))
    paths = [w.path for w in saved.weights]
    assert len(set(paths)) == len(paths), paths
    path = tf.train.Checkpoint(model=trackable_weights(saved)).save(str(tmp_path / "ckpt"))
    restore_weights(rebuilt, path)
    for before, after in zip(saved.weights, rebuilt.weights):
        np.testing.assert_array_equal(before.numpy(), after.numpy(), err_msg=before.path)
    source, target_in = tf.constant([[4, 5, 6, 3]]), tf.constant([[2, 4, 5]])
    np.testing.assert_allclose(rebuilt((source, target_in)), saved((source, target_in)),
                               rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("options", [{}, {"attention": "bahdanau", "input_feeding": True,
                                          "bidirectional": True, "cell": "cifg",
                                          "tie_embeddings": True, "reverse_source": True,
                                          "attention_activation": "none", "embedding_dropout": 0.1,
                                          "output_dropout": 0.2}])
def test_model_round_trips_through_its_config_without_a_recipe(options):
    model = build_model(10, 12, embedding_dim=8, units=16, layers=2, dropout=0.0, **options)
    config = json.loads(json.dumps(model.get_config()))  # plain values only
    rebuilt = Seq2Seq.from_config(config)
    source, target_in = tf.constant([[4, 5, 6, 3]]), tf.constant([[2, 4, 5]])
    rebuilt((source, target_in))
    assert [w.path for w in rebuilt.weights] == [w.path for w in model.weights]
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt((source, target_in)), model((source, target_in)),
                               rtol=1e-6)
    for layer in (model.encoder, model.decoder, model.decoder.projection):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()
    if model.decoder.attention:
        attention = model.decoder.attention
        assert type(attention).from_config(attention.get_config()).activation == \
            options["attention_activation"]
