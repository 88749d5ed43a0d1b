"""OpenNMT-tf 2.32 model of the time-to-quality race (benchmarks/race.py): a 2 x 256 LSTM encoder,
a 2 x 256 LSTM decoder with Luong attention (input feeding, as OpenNMT-tf's attentional decoder
does), embeddings 256, dropout 0.2. Runs only in OpenNMT-tf's own virtual environment."""

import opennmt
import tensorflow as tf
import tensorflow_addons as tfa


def model():
    return opennmt.models.SequenceToSequence(
        source_inputter=opennmt.inputters.WordEmbedder(embedding_size=256),
        target_inputter=opennmt.inputters.WordEmbedder(embedding_size=256),
        encoder=opennmt.encoders.RNNEncoder(num_layers=2, num_units=256, dropout=0.2,
                                            cell_class=tf.keras.layers.LSTMCell),
        decoder=opennmt.decoders.AttentionalRNNDecoder(
            num_layers=2, num_units=256, dropout=0.2,
            attention_mechanism_class=tfa.seq2seq.LuongAttention,
            bridge_class=opennmt.layers.CopyBridge, cell_class=tf.keras.layers.LSTMCell))
