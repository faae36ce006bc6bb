"""The compute lower bound of an epoch: the model's multiply-adds and the machine's measured GEMM rate.

Training one sample costs about 3x its forward pass (forward, plus two matrix products of the same size
in backward: one for the input gradient, one for the weight gradient), and a forward pass of the
talk's nets is almost all multiply-adds in ``Dense`` and ``Conv2D`` layers.  So an epoch can take no
less than::

    3 * 2 * forward_macs * num_samples / gemm_flops_per_second

where the rate is the best fp32 matrix-multiply throughput measured on this machine (all cores; the
best of MXNet's ``dot`` (OpenBLAS), ``FullyConnected`` (oneDNN), numpy and torch when present).
Nothing real reaches the bound: it ignores the activations, the pooling, the loss, the update and
every per-step overhead, and small layers never run at the large-GEMM rate.
"""
import time

TRAIN_OVER_FORWARD = 3  # forward + backward (input gradient + weight gradient)
GEMM_SIZES = (512, 1024, 2048)


def forward_macs(net, input_shape=(1, 1, 28, 28)):
    """Multiply-adds of one forward pass of one sample through ``net``'s Dense and Conv2D layers.

    Counted by running a batch of ``input_shape`` through the net with a hook on every layer:
    Dense costs in_units x units per sample, Conv2D costs (output elements) x (in_channels / groups)
    x (kernel height x kernel width).
    """
    from mxnet import nd
    from mxnet.gluon import nn

    total = [0]

    def count(block, inputs, output):
        batch = inputs[0].shape[0]
        if isinstance(block, nn.Dense):
            weight = block.weight.shape  # (units, in_units)
            total[0] += weight[0] * weight[1] * batch
        elif isinstance(block, nn.Conv2D):
            weight = block.weight.shape  # (out_channels, in_channels / groups, kh, kw)
            total[0] += output.size * weight[1] * weight[2] * weight[3]

    handles = []

    def attach(block):
        if isinstance(block, (nn.Dense, nn.Conv2D)):
            handles.append(block.register_forward_hook(count))

    net.apply(attach)
    try:
        net(nd.zeros(input_shape, ctx=net.collect_params().list_ctx()[0]))
    finally:
        for handle in handles:
            handle.detach()
    return total[0] // input_shape[0]


def lower_bound_seconds(macs, num_samples, gemm_flops):
    """The epoch time if every training FLOP ran at the measured GEMM rate."""
    return TRAIN_OVER_FORWARD * 2 * macs * num_samples / gemm_flops


def _best_seconds(run, wait, repeats):
    run()
    wait()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        wait()
        best = min(best, time.perf_counter() - start)
    return best


def measure_gemm_rates(sizes=GEMM_SIZES, repeats=5):
    """fp32 GEMM FLOP/s of each library on square matrices: ``{'mxnet.dot': rate, ...}`` (best size)."""
    import mxnet as mx
    from mxnet import nd

    rates = {}

    def note(name, n, seconds):
        rates[name] = max(rates.get(name, 0.0), 2.0 * n ** 3 / seconds)

    for n in sizes:
        a = nd.random.uniform(shape=(n, n), ctx=mx.cpu())
        b = nd.random.uniform(shape=(n, n), ctx=mx.cpu())
        note("mxnet.dot", n, _best_seconds(lambda: nd.dot(a, b), nd.waitall, repeats))
        note("mxnet.FullyConnected", n, _best_seconds(
            lambda: nd.FullyConnected(a, b, num_hidden=n, no_bias=True), nd.waitall, repeats))
        a_np, b_np = a.asnumpy(), b.asnumpy()
        note("numpy.matmul", n, _best_seconds(lambda: a_np @ b_np, lambda: None, repeats))
        try:
            import torch
        except ImportError:
            continue
        a_t, b_t = torch.from_numpy(a_np), torch.from_numpy(b_np)
        note("torch.mm", n, _best_seconds(lambda: torch.mm(a_t, b_t), lambda: None, repeats))
    return rates
