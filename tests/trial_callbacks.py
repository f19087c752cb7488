"""Keras callbacks used by the search tests to make chosen trials fail in real ways.

They live in an importable module (not in a test file) so that worker processes and Ray
workers can unpickle them.  A trial is recognised by its model's name, which ends in
``_trial_<16 digits>_subtrial_<16 digits>``.
"""

import os
import signal

import keras
import numpy as np


def trial_of(model) -> int:
    return int(model.name.split("_trial_")[1].split("_")[0])


class PoisonTrials(keras.callbacks.Callback):
    """Set a weight of the chosen trials' models to NaN, so their loss becomes NaN."""

    def __init__(self, trials):
        super().__init__()
        self.trials = set(trials)

    def on_train_begin(self, logs=None):
        if trial_of(self.model) in self.trials:
            variable = self.model.trainable_variables[0]
            variable.assign(np.full(variable.shape, np.nan, dtype=variable.dtype))


class KillWorkerOnTrial(keras.callbacks.Callback):
    """SIGKILL the process running the chosen trial, in the middle of its first epoch."""

    def __init__(self, trial):
        super().__init__()
        self.trial = trial

    def on_train_batch_end(self, batch, logs=None):
        if trial_of(self.model) == self.trial:
            os.kill(os.getpid(), signal.SIGKILL)


class StopWorkerOnTrial(keras.callbacks.Callback):
    """SIGSTOP the process running the chosen trial after its first batch (as a debugger
    would), writing its process id to ``pid_file`` first."""

    def __init__(self, trial, pid_file):
        super().__init__()
        self.trial, self.pid_file = trial, str(pid_file)

    def on_train_batch_end(self, batch, logs=None):
        if trial_of(self.model) == self.trial:
            with open(self.pid_file, "w") as handle:
                handle.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGSTOP)


class RecordEpochs(keras.callbacks.Callback):
    """Count epochs in this process (to check callbacks reach every trial's fit)."""

    epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        type(self).epochs += 1


class RecordGraphOptimizer(keras.callbacks.Callback):
    """Record, at each trial's start of training, whether Grappler is switched off."""

    disabled: list = []

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        options = tf.config.optimizer.get_experimental_options()
        type(self).disabled.append(bool(options.get("disable_meta_optimizer", False)))


class RecordStepsPerExecution(keras.callbacks.Callback):
    """Record, at each trial's start of training, the model's ``steps_per_execution``."""

    steps: list = []

    def on_train_begin(self, logs=None):
        type(self).steps.append(self.model.steps_per_execution)


class HoldEpoch(keras.callbacks.Callback):
    """At the start of ``epoch`` of ``trial``, touch ``marker`` and wait: a test kills the
    process while it waits, i.e. in the middle of that epoch."""

    def __init__(self, trial, epoch, marker):
        super().__init__()
        self.trial, self.epoch, self.marker = trial, epoch, marker

    def on_epoch_begin(self, epoch, logs=None):
        if trial_of(self.model) == self.trial and epoch == self.epoch:
            open(self.marker, "w").close()
            import time

            time.sleep(120)


class FailBeforeTraining(keras.callbacks.Callback):
    """Raise before the first epoch, so a trial fails with no history at all."""

    def on_train_begin(self, logs=None):
        raise RuntimeError("failing before the first epoch on purpose")


class RecordLearningRate(keras.callbacks.Callback):
    """Collect the optimizer's learning rate at the end of every epoch (class attribute)."""

    rates: list = []

    def on_epoch_end(self, epoch, logs=None):
        RecordLearningRate.rates.append(float(keras.ops.convert_to_numpy(
            self.model.optimizer.learning_rate)))


class FailTrialWith(keras.callbacks.Callback):
    """Raise RuntimeError(``message``) as the chosen trial starts training."""

    def __init__(self, trial, message):
        super().__init__()
        self.trial, self.message = trial, message

    def on_train_begin(self, logs=None):
        if trial_of(self.model) == self.trial:
            raise RuntimeError(self.message)


class KillWhileSendingResult(keras.callbacks.Callback):
    """Make the chosen trial's result large (a long padding entry in its history) and send
    its worker process ``signal_number`` (SIGKILL; SIGSTOP freezes it) while it is writing
    that result to the driver: a thread watches the other threads' stacks for a
    ``send_bytes`` of more than a megabyte."""

    def __init__(self, trial, signal_number=signal.SIGKILL):
        super().__init__()
        self.trial, self.signal_number = trial, signal_number

    def on_train_end(self, logs=None):
        if trial_of(self.model) != self.trial:
            return
        import sys
        import threading
        import time

        self.model.history.history["padding"] = [0.0] * 3_000_000

        def kill_mid_message():
            me = threading.get_ident()
            while True:
                for thread, frame in sys._current_frames().items():
                    while thread != me and frame is not None:
                        if (frame.f_code.co_name == "_send_bytes"
                                and frame.f_locals.get("n", 0) > 1_000_000):
                            os.kill(os.getpid(), self.signal_number)
                        frame = frame.f_back
                time.sleep(0.0001)

        threading.Thread(target=kill_mid_message, daemon=True).start()


class SleepInTrial(keras.callbacks.Callback):
    """Sleep ``seconds`` at the end of each epoch of the chosen trials (a slow trial), or
    only until ``marker`` exists when it is given (the first run sleeps and creates it)."""

    def __init__(self, trials, seconds, marker=None):
        super().__init__()
        self.trials, self.seconds, self.marker = set(trials), seconds, marker

    def on_epoch_end(self, epoch, logs=None):
        if trial_of(self.model) not in self.trials:
            return
        if self.marker is not None:
            if os.path.exists(self.marker):
                return
            open(self.marker, "w").close()
        import time

        time.sleep(self.seconds)


class HoldBatch(keras.callbacks.Callback):
    """At the start of batch ``batch`` of ``epoch`` of ``trial`` (earlier batches of that
    epoch have already updated the weights), write ``epoch batch`` to ``marker`` and wait: a
    test kills the process while it waits, i.e. inside that epoch, not at its boundary."""

    def __init__(self, trial, epoch, batch, marker):
        super().__init__()
        self.trial, self.epoch, self.batch, self.marker = trial, epoch, batch, marker
        self.current_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (trial_of(self.model) == self.trial and self.current_epoch == self.epoch
                and batch == self.batch):
            with open(self.marker, "w") as handle:
                handle.write(f"{self.current_epoch} {batch}")
            import time

            time.sleep(120)


class RayProbe(keras.callbacks.Callback):
    """Write, at each trial's start of training, ``trial_<n>.json`` in ``directory`` with the
    worker's process id and the address of the Ray cluster it runs in.  Trial ``fail_trial``
    then waits until trial ``fail_after`` has started and raises; with ``hold`` every other
    trial waits (until its worker is killed)."""

    def __init__(self, directory, fail_trial=None, fail_after=None, hold=False):
        super().__init__()
        self.directory, self.fail_trial, self.fail_after = directory, fail_trial, fail_after
        self.hold = hold

    def on_train_begin(self, logs=None):
        import json
        import time

        import ray

        trial = trial_of(self.model)
        context = ray.get_runtime_context()
        info = {"pid": os.getpid(), "gcs_address": context.gcs_address,
                "node_id": context.get_node_id(), "time": time.time()}
        path = os.path.join(self.directory, f"trial_{trial}.json")
        with open(path + ".tmp", "w") as handle:
            json.dump(info, handle)
        os.replace(path + ".tmp", path)
        if trial == self.fail_trial:
            waited = os.path.join(self.directory, f"trial_{self.fail_after}.json")
            deadline = time.time() + 120
            while not os.path.exists(waited) and time.time() < deadline:
                time.sleep(0.1)
            raise RuntimeError(f"trial {trial} fails on purpose once trial {self.fail_after} runs")
        if self.hold:
            time.sleep(600)


class TrialTimeout(Exception):
    """Named as the search records a trial stopped by ``trial_timeout_s``: a transient
    failure, which a resumed search retries."""


class TimeOutTrial(keras.callbacks.Callback):
    """Fail the chosen trial as a timed-out one, at once (no waiting for a timeout)."""

    def __init__(self, trial):
        super().__init__()
        self.trial = trial

    def on_train_begin(self, logs=None):
        if trial_of(self.model) == self.trial:
            raise TrialTimeout(f"trial {self.trial} stood for a timed-out trial")
