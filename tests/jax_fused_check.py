"""Run under KERAS_BACKEND=jax: FusedDenseUnit equals the unfused block on JAX too.

Prints the largest absolute differences of the outputs and of the gradients (with respect
to the parameters and the inputs, in training mode) as JSON; exits non-zero on error.
"""

import json
import os

assert os.environ.get("KERAS_BACKEND") == "jax"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from cerebros.layers import FusedDenseUnit, distinct_sources  # noqa: E402

widths = (3, 5, 2)
inputs = [keras.Input((w,)) for w in widths]
named = dict(zip("abc", inputs))
named["g"] = keras.layers.Activation("sigmoid")(named["a"])
copies = [named[k] for k in "abaagcbag"]
distinct, sources = distinct_sources(copies)
bn = keras.layers.BatchNormalization()
dense = keras.layers.Dense(4, activation="tanh")
unfused = keras.Model(inputs, dense(bn(keras.layers.Concatenate()(copies))))
fused_layer = FusedDenseUnit(4, sources, activation="tanh")
fused = keras.Model(inputs, fused_layer(distinct))
rng = np.random.default_rng(0)
width = bn.gamma.shape[0]
bn.set_weights([rng.uniform(0.5, 1.5, width), rng.normal(0, 0.5, width),
                rng.normal(0, 1.0, width), rng.uniform(0.3, 2.0, width)])
dense.set_weights([rng.normal(0, 0.4, (width, 4)), rng.normal(0, 0.3, 4)])
fused_layer.set_weights(bn.get_weights() + dense.get_weights())
data = [jnp.asarray(rng.normal(1.0, 2.0, (11, w)), dtype="float32") for w in widths]
cotangent = jnp.asarray(np.arange(44).reshape(11, 4) % 7 - 3, dtype="float32")


def gradients(model, training):
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(params, x):
        out, _ = model.stateless_call(params, non_trainable, x, training=training)
        return jnp.sum(out * cotangent), out

    (_, out), (d_params, d_x) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(
        trainable, data)
    return out, d_params, d_x


report = {}
for training in (True, False):
    out_u, params_u, x_u = gradients(unfused, training)
    out_f, params_f, x_f = gradients(fused, training)
    report[f"training={training}"] = {
        "output": float(jnp.abs(out_u - out_f).max()),
        "params": max(float(jnp.abs(a - b).max()) for a, b in zip(params_u, params_f)),
        "inputs": max(float(jnp.abs(a - b).max()) for a, b in zip(x_u, x_f)),
        "params_scale": max(float(jnp.abs(a).max()) for a in params_u),
    }
print(json.dumps(report))
