"""OpenNMT-tf 2.32 model of the time-to-quality race (benchmarks/race.py), as issue 26 gives the
reference configuration: a 2 x 256 LSTM encoder, a 2 x 256 LSTM decoder with Luong attention,
input feeding and a linear attention layer (``attention_layer_activation=None``), embeddings 256,
dropout 0.2, no residual connections (``attention_layer_activation="tanh"``: OpenNMT-tf's default
layer, for race.py's ``--peer`` variants). Runs only in OpenNMT-tf's own virtual environment:
``onmt-main --model small256.py --config small256.yml train``."""

import opennmt as onmt
import tensorflow as tf
import tensorflow_addons as tfa


class Small256(onmt.models.SequenceToSequence):
    def __init__(self, attention_layer_activation=None):
        super().__init__(
            source_inputter=onmt.inputters.WordEmbedder(embedding_size=256),
            target_inputter=onmt.inputters.WordEmbedder(embedding_size=256),
            encoder=onmt.encoders.RNNEncoder(
                num_layers=2, num_units=256, dropout=0.2, residual_connections=False,
                cell_class=tf.keras.layers.LSTMCell),
            decoder=onmt.decoders.AttentionalRNNDecoder(
                num_layers=2, num_units=256, bridge_class=onmt.layers.CopyBridge,
                attention_mechanism_class=tfa.seq2seq.LuongAttention,
                attention_layer_activation=attention_layer_activation,
                cell_class=tf.keras.layers.LSTMCell,
                dropout=0.2, residual_connections=False))


model = Small256
