"""The lean plain-SGD update: a ``gluon.Trainer`` that makes one ``sgd_update`` call per parameter."""
import mxnet as mx
import numpy as np
from mxnet import gluon, nd


class SGDTrainer(gluon.Trainer):
    """``gluon.Trainer`` whose plain-SGD update is one ``sgd_update`` call per parameter.

    Gluon's update goes through its Updater and Optimizer classes, about 15-35 us of Python per
    parameter and step, which for a small net costs more than the update itself.  In the common
    case -- the ``sgd`` optimizer without momentum, float32 weights on one device, no kvstore --
    this class calls the same operator directly, with the learning rate, weight decay, gradient
    scale and clipping the optimizer would use, and keeps the optimizer's update counts (so that
    learning-rate schedules still work).  Every other case is Gluon's own ``_update``.
    """

    def _update(self, ignore_stale_grad=False):
        optimizer = self._optimizer
        if not self._plain_sgd():
            return super()._update(ignore_stale_grad)
        kwargs = {"rescale_grad": optimizer.rescale_grad}
        if optimizer.clip_gradient is not None:
            kwargs["clip_gradient"] = optimizer.clip_gradient
        for i, param in enumerate(self._params):
            if param.grad_req == "null":
                continue
            weight, grad = param._data[0], param._grad[0]
            if not weight._fresh_grad:
                if ignore_stale_grad:
                    continue
                raise UserWarning(f"Gradient of Parameter `{param.name}` on context {weight.context} "
                                  "has not been updated by backward since last `step`: call step "
                                  "with ignore_stale_grad=True to skip such parameters")
            optimizer._update_count(i)
            nd.sgd_update(weight, grad, out=weight, lr=optimizer._get_lr(i), wd=optimizer._get_wd(i),
                          **kwargs)
            weight._fresh_grad = False
        return None

    def _plain_sgd(self):
        optimizer = self._optimizer
        return (type(optimizer) is mx.optimizer.SGD and optimizer.momentum == 0
                and self._kvstore is None and getattr(self, "_amp_loss_scaler", None) is None
                and all(len(p._data) == 1 and p._data[0].dtype == np.float32 and p._stype == "default"
                        and p._grad_stype == "default" for p in self._params if p.grad_req != "null"))
