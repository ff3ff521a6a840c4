"""Learned policies (spec/edmsac.md): EDMSAC, a diffusion-actor soft actor-critic with dynamic
structured pruning, and its baselines (`dmsac`, `sac`, `bc`, `random`).

Layers: this package imports optkit.core and the families' envs, never bench or cli. torch is the
`learn` extra; importing `optkit.learn` itself does not import torch (config, registry and data
readers are torch-free), the modules that need it import it at the top.

    config.py     one typed dataclass per algorithm, loadable from TOML
    diffusion.py  the DDPM actor: VP schedule, sinusoidal time embedding, masked MLP denoiser
    pruning.py    neuron masks, importance, the ϱ ramp, compact() for inference
    networks.py   twin critics and the Gaussian (SAC) actor
    replay.py     the replay buffer
    data.py       the oracle warm-start data set (an `optkit baseline` Parquet) in the action box
    edmsac.py / sac.py   the algorithms (one update step each)
    train.py      the training loop: collection, updates, validation, CSV, checkpoints, resume
    evaluate.py   held-out gap to the certified optimum, violation share, latency, FLOPs
    policy.py     checkpoints (weights_only) and the learned solvers' entry points
    registry.py   registers the learned solvers by entry point (no torch import)
"""
