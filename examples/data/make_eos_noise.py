# Writes eos-noise.npz, the data of examples/eos-mlp.toml: 400 train and 200 test examples with
# inputs x ~ N(0, I_10) and targets y ~ N(0, 0.25 I_4) drawn independently of x (random targets,
# which a 64-unit MLP can only partly fit, so its sharpness keeps rising under gradient descent).
# Run: /usr/bin/python3 examples/data/make_eos_noise.py (NumPy; seed 0, the committed file).
import pathlib

import numpy as np

rng = np.random.default_rng(0)
d, outputs, n_train, n_test = 10, 4, 400, 200
x = rng.normal(size=(n_train + n_test, d))
y = rng.normal(size=(n_train + n_test, outputs)) * 0.5
np.savez(pathlib.Path(__file__).with_name("eos-noise.npz"),
         x_train=x[:n_train].astype(np.float32), y_train=y[:n_train].astype(np.float32),
         x_test=x[n_train:].astype(np.float32), y_test=y[n_train:].astype(np.float32))
