"""Training: preparation of a run, the trainer's custom step and loop, evaluation on the dev set,
learning-rate schedules, precision, distribution strategies and checkpoint averaging."""
