"""OpenNMT-tf 2.32 model matching recipes/multi30k_de-en_sp8k.yaml: a 2 x 256 LSTM encoder whose
final states initialize a 2 x 256 LSTM decoder (no attention), embeddings 256, dropout 0.3.
Used only by benchmarks/opennmt/compare.py, in OpenNMT-tf's own virtual environment."""

import opennmt
import tensorflow as tf


def model():
    return opennmt.models.SequenceToSequence(
        source_inputter=opennmt.inputters.WordEmbedder(embedding_size=256),
        target_inputter=opennmt.inputters.WordEmbedder(embedding_size=256),
        encoder=opennmt.encoders.RNNEncoder(num_layers=2, num_units=256, dropout=0.3,
                                            cell_class=tf.keras.layers.LSTMCell),
        decoder=opennmt.decoders.RNNDecoder(num_layers=2, num_units=256, dropout=0.3,
                                            bridge_class=opennmt.layers.CopyBridge,
                                            cell_class=tf.keras.layers.LSTMCell))
