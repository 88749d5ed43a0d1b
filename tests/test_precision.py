"""``train.precision: auto``: the policy chosen from the GPUs' compute capability or the CPU's
flags, and a training that builds its model in it."""

import pytest

from translit.recipe import load_recipe
from translit.training.precision import choose_precision, cpu_flags, resolve_precision
from translit.training.trainer import Trainer

from helpers import write_recipe


@pytest.mark.parametrize("gpus, flags, expected", [
    ([(9, 0)], set(), "mixed_bfloat16"),
    ([(8, 0), (7, 5)], {"amx_bf16"}, "mixed_float16"),  # the oldest GPU decides
    ([(6, 1)], set(), "float32"),
    ([], {"avx512f", "avx512_bf16"}, "mixed_bfloat16"),
    ([], {"avx512f", "amx_bf16", "amx_tile"}, "mixed_bfloat16"),
    ([], {"avx512f", "avx2"}, "float32"),
])
def test_auto_picks_the_policy_the_hardware_runs_fast(gpus, flags, expected):
    assert choose_precision(gpus, flags)[0] == expected
    assert resolve_precision("auto", gpus, flags) == expected
    assert resolve_precision("mixed_float16", gpus, flags) == "mixed_float16"


def test_cpu_flags_come_from_cpuinfo(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nflags\t\t: fpu avx512f amx_bf16\n\nprocessor\t: 1\n"
                    "flags\t\t: fpu\n")
    assert cpu_flags(str(path)) == {"fpu", "avx512f", "amx_bf16"}
    assert cpu_flags(str(tmp_path / "missing")) == set()


def test_a_training_with_auto_builds_its_model_in_the_machines_policy(tmp_path):
    path = write_recipe(tmp_path, train={"max_steps": 5, "precision": "auto"})
    trainer = Trainer(load_recipe(path), str(tmp_path / "run"))
    expected = resolve_precision("auto").replace("mixed_", "")
    assert trainer.model.decoder.projection.compute_dtype == expected
    assert trainer.loss_scaling == (expected == "float16")
