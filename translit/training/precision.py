"""``train.precision: auto``: the Keras dtype policy this machine trains fastest in.

* a GPU of compute capability 8.0 or later (A100, H100, ...): ``mixed_bfloat16`` (tensor cores,
  no loss scaling); 7.x (V100, T4): ``mixed_float16`` (with loss scaling);
* a CPU with bfloat16 instructions (``avx512_bf16`` or ``amx_bf16`` in its flags):
  ``mixed_bfloat16`` (faster than float32 on such CPUs in benchmarks/LOG.md); any other CPU
  emulates bfloat16 and trains faster in ``float32``.
"""

import logging
from typing import Iterable, Optional, Sequence, Tuple

log = logging.getLogger(__name__)

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path: str = "/proc/cpuinfo") -> set:
    """The first processor's flags (empty where the file is missing, as on macOS)."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def gpu_capabilities() -> list:
    """(major, minor) compute capability of every visible GPU."""
    import tensorflow as tf

    details = (tf.config.experimental.get_device_details(gpu)
               for gpu in tf.config.list_physical_devices("GPU"))
    return [d.get("compute_capability", (0, 0)) for d in details]


def choose_precision(gpus: Sequence[Tuple[int, int]], flags: Iterable[str]) -> Tuple[str, str]:
    """Returns (policy, why) for GPUs of the given compute capabilities, or the CPU's flags."""
    if gpus:
        oldest = min(gpus)
        why = f"GPU compute capability {oldest[0]}.{oldest[1]}"
        if oldest >= (8, 0):
            return "mixed_bfloat16", why
        return ("mixed_float16" if oldest >= (7, 0) else "float32"), why
    found = sorted(set(flags) & set(BF16_CPU_FLAGS))
    if found:
        return "mixed_bfloat16", f"CPU with {', '.join(found)}"
    return "float32", "CPU without bfloat16 instructions"


def resolve_precision(precision: str, gpus: Optional[Sequence[Tuple[int, int]]] = None,
                      flags: Optional[Iterable[str]] = None) -> str:
    """``precision`` itself, or for ``auto`` the policy :func:`choose_precision` picks for this
    machine (logged with the reason)."""
    if precision != "auto":
        return precision
    chosen, why = choose_precision(gpu_capabilities() if gpus is None else gpus,
                                   cpu_flags() if flags is None else flags)
    log.info("precision auto: %s (%s)", chosen, why)
    return chosen
