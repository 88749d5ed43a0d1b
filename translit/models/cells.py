"""Recurrent cells and whole-sequence layers: LSTM, GRU and the coupled-gate LSTM (CIFG)."""

import keras
import tensorflow as tf
from keras import ops

CELL_TYPES = ("lstm", "gru", "cifg")


class CIFGCell(keras.layers.Layer):
    """LSTM with coupled input and forget gates (Greff et al. 2017, "CIFG").

    One gate ``f`` decides both what is kept and what is written (input gate ``1 - f``)::

        f = sigmoid(x W_f + h U_f + b_f)
        o = sigmoid(x W_o + h U_o + b_o)
        g = tanh(x W_g + h U_g + b_g)
        c' = f * c + (1 - f) * g
        h' = o * tanh(c')

    Three gate blocks instead of the LSTM's four: 25% fewer recurrent weights.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * self.units),
                                      initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, 3 * self.units),
                                                initializer="orthogonal", name="recurrent_kernel")
        # Forget gates start open (bias 1), as Keras's unit_forget_bias does for the LSTM.
        self.bias = self.add_weight(
            shape=(3 * self.units,), name="bias",
            initializer=lambda shape, dtype: ops.concatenate(
                [ops.ones((self.units,), dtype), ops.zeros((2 * self.units,), dtype)]))

    def call(self, inputs, states, training=False):
        """Args: inputs (batch, features); states [h, c], each (batch, units).

        Returns: h' and [h', c'].
        """
        h, c = states
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h, self.recurrent_kernel) + self.bias
        z_f, z_o, z_g = ops.split(z, 3, axis=-1)  # each (batch, units)
        f = ops.sigmoid(z_f)
        c = f * c + (1.0 - f) * ops.tanh(z_g)
        h = ops.sigmoid(z_o) * ops.tanh(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class LSTM(keras.layers.LSTM):
    """Keras's LSTM (same weights, same results) whose input projection runs once per sequence
    where cuDNN does not run the layer (on a CPU): ``x W + b`` for every position in one matrix
    product, so that each step of the loop multiplies only the recurrent state by ``U``. Keras's
    own loop does both products at every step."""

    def inner_loop(self, sequences, initial_state, mask, training=False):
        """Args: sequences (batch, time, features); initial_state [h, c]; mask (batch, time).

        Returns: as Keras's loop: last output (batch, units), outputs (batch, time, units),
        [h, c].
        """
        if (self.recurrent_dropout or self.dropout or self.go_backwards or self.unroll
                or not self.return_sequences or tf.config.list_logical_devices("GPU")):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        projected = ops.matmul(sequences, cell.kernel) + cell.bias  # (batch, time, 4 * units)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is None:
            mask = tf.ones(tf.shape(sequences)[:2], tf.bool)

        def step(carry, position):
            h, c = carry
            z, keep = position  # (batch, 4 * units), (batch,)
            z_i, z_f, z_c, z_o = ops.split(z + ops.matmul(h, cell.recurrent_kernel), 4, axis=-1)
            new_c = (cell.recurrent_activation(z_f) * c
                     + cell.recurrent_activation(z_i) * cell.activation(z_c))
            new_h = cell.recurrent_activation(z_o) * cell.activation(new_c)
            keep = keep[:, None]  # a masked position keeps the state (and repeats the output)
            return tf.where(keep, new_h, h), tf.where(keep, new_c, c)

        hs, cs = tf.scan(step, (tf.transpose(projected, [1, 0, 2]), tf.transpose(mask)),
                         initializer=tuple(initial_state))  # each (time, batch, units)
        outputs = tf.transpose(hs, [1, 0, 2])
        if self.zero_output_for_mask:
            outputs = tf.where(mask[:, :, None], outputs, 0.0)
        return outputs[:, -1], outputs, [hs[-1], cs[-1]]


def recurrent_layer(cell: str, units: int, name: str):
    """One whole-sequence layer returning its outputs and final states.

    ``lstm`` and ``gru`` keep Keras's defaults (tanh/sigmoid, bias, no recurrent dropout, GRU
    ``reset_after``), so on a GPU with right-padded masks they run the cuDNN kernel.
    Final states: [h, c] for ``lstm`` and ``cifg``, [h] for ``gru``.
    """
    options = dict(return_sequences=True, return_state=True, name=name)
    if cell == "lstm":
        return LSTM(units, **options)
    if cell == "gru":
        return keras.layers.GRU(units, **options)
    if cell == "cifg":
        return keras.layers.RNN(CIFGCell(units, name="cifg_cell"), **options)
    raise ValueError(f"unknown cell {cell!r}, expected one of {CELL_TYPES}")


def run_layer(layer, x, mask=None, initial_state=None, training=False):
    """Runs a :func:`recurrent_layer`. Returns (outputs (batch, time, units), [state, ...])."""
    outputs, *states = layer(x, mask=mask, initial_state=initial_state, training=training)
    return outputs, states


def cell_step(layer, x, state):
    """One step of a :func:`recurrent_layer`'s cell. Returns (output (batch, units), state).

    A cell first built here (a decoder with input feeding runs only steps) takes its weights'
    paths under the layer's name, as when the whole layer runs: ``decoder/lstm_1/lstm_cell``,
    not ``decoder/lstm_cell`` for every layer (checkpoints name weights by path).
    """
    with keras.name_scope(layer.name, caller=layer):
        output, state = layer.cell(x, state)
    return output, list(state)
