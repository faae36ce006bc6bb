"""The bound step: net and loss as one graph (:class:`_NetWithLoss`), bound once as an MXNet executor."""
import mxnet as mx
from mxnet import gluon, nd


class _NetWithLoss(gluon.HybridBlock):
    """``net`` and ``loss_fn`` in one graph, so that a hybridized step is one call per batch.

    It returns ``(loss, y_hat)``; with ``count_correct`` (the default ``to_label``, argmax) it
    returns ``(summed loss, number of right answers)`` of the batch instead, both computed in the
    graph, so that a training step needs no operator calls besides the graph, its backward pass and
    the update.  The gradient of the summed loss is the same sum of per-sample gradients that
    backward of the per-sample losses computes.
    """

    def __init__(self, net, loss_fn, count_correct=False):
        super().__init__(prefix="")
        self._count_correct = count_correct
        with self.name_scope():
            self.net = net
            self.loss_fn = loss_fn

    def hybrid_forward(self, F, X, y):  # pylint: disable=arguments-differ
        y_hat = self.net(X)
        loss = self.loss_fn(y_hat, y)
        if not self._count_correct:
            return loss, y_hat
        correct = F.reshape(F.argmax(y_hat, axis=1), shape=(-1,)) == F.reshape(y, shape=(-1,))
        return F.sum(loss), F.sum(correct)


class BoundStep:
    """A training step run by an MXNet executor bound once: forward and backward are one call each.

    The fast path of :func:`mxdl.train.fit` in the common case (one device, a HybridBlock net and
    loss, the default argmax labels, ``hybridize=True``).  ``autograd.backward`` rebuilds its
    backward graph at every step, about 0.1 ms of Python and C++ per batch -- more than the maths of
    a small net; an executor plans forward and backward once.  It reads and writes the Parameters'
    own arrays (data and gradients), so ``trainer.step`` updates them exactly as after
    ``autograd.backward``.  Each batch is gathered straight into the executor's input arrays, and
    the batch's summed loss and number of right answers are added to the totals on the device (no
    host sync).
    """

    def __init__(self, net, loss_fn, trainer, ctx):
        model = _NetWithLoss(net, loss_fn, count_correct=True)
        model.hybridize(static_alloc=True, static_shape=True)
        loss_sum, correct = model(mx.sym.var("data"), mx.sym.var("label"))
        # make_loss: backward starts from d(summed loss) = 1, as autograd.backward(summed loss) does.
        stats = mx.sym.concat(mx.sym.reshape(loss_sum, shape=(1,)), mx.sym.reshape(correct, shape=(1,)),
                              dim=0)
        self._symbol = mx.sym.Group([mx.sym.make_loss(loss_sum), mx.sym.BlockGrad(stats)])
        self._trainer, self._ctx = trainer, ctx
        self._params = {param.name: param for param in model.collect_params().values()}
        self._executors = {}  # batch size -> executor (the short last batch gets its own)
        # The Trainer refuses a gradient that backward did not write: mark them as autograd does.
        self._weights = [p.data(ctx) for p in self._params.values() if p.grad_req != "null"]
        self._totals = nd.zeros(2, ctx=ctx)  # (summed loss, number right) since begin_epoch
        self._data = None

    @staticmethod
    def usable(net, loss_fn, ctx):
        """Whether ``net`` and ``loss_fn`` can be bound (HybridBlocks whose shapes are known)."""
        if not (isinstance(net, gluon.HybridBlock) and isinstance(loss_fn, gluon.HybridBlock)):
            return False
        try:
            for param in net.collect_params().values():
                param.data(ctx)
        except gluon.parameter.DeferredInitializationError:  # shapes known only after a forward pass
            return False
        return True

    def _executor(self, size, X, y):
        if size not in self._executors:
            args = {"data": nd.zeros((size,) + X.shape[1:], ctx=self._ctx),
                    "label": nd.zeros((size,) + y.shape[1:], ctx=self._ctx)}
            grads, grad_req = {}, {"data": "null", "label": "null"}
            for name in self._symbol.list_arguments():
                if name in self._params:
                    param = self._params[name]
                    args[name] = param.data(self._ctx)
                    grad_req[name] = param.grad_req
                    if param.grad_req != "null":
                        grads[name] = param.grad(self._ctx)
            aux = {name: self._params[name].data(self._ctx)
                   for name in self._symbol.list_auxiliary_states()}
            shared = next(iter(self._executors.values()), None)
            self._executors[size] = self._symbol.bind(self._ctx, args, args_grad=grads,
                                                      grad_req=grad_req, aux_states=aux,
                                                      shared_exec=shared)
        return self._executors[size]

    def begin_epoch(self, X, y, order):
        self._data = (X, y if order is None else nd.take(y, order), order)
        self._totals[:] = 0

    def step(self, start, stop):
        """Forward and backward of samples ``start:stop`` into the gradients, then the update."""
        X, y, order = self._data
        executor = self._executor(stop - start, X, y)
        data, label = executor.arg_dict["data"], executor.arg_dict["label"]
        if order is None:
            X[start:stop].copyto(data)
        else:
            nd.take(X, order[start:stop], out=data)
        y[start:stop].copyto(label)
        executor.forward(is_train=True)
        executor.backward()
        for weight in self._weights:
            weight._fresh_grad = True
        self._totals += executor.outputs[1]
        self._trainer.step(stop - start)  # the mean gradient of the samples actually in this batch

    def totals(self):
        loss_sum, correct = self._totals.asnumpy().tolist()
        return loss_sum, correct
