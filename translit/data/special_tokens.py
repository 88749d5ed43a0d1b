"""The ids every vocabulary reserves, in one place: tokenizers write them, models and search read
them."""

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")  # their pieces, by id
