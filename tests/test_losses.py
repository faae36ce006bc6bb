"""The slides' loss formulas against Gluon's losses (to 1e-6)."""
import numpy as np
import pytest
from mxnet import gluon, nd

from mxdl import losses


@pytest.fixture
def probabilities_and_labels():
    rng = np.random.RandomState(0)
    y_hat = rng.uniform(0.01, 0.99, 50)  # probabilities of "diamond"
    y = (rng.uniform(size=50) < 0.5).astype(np.float64)
    return y_hat, y


def test_zero_one_loss_is_0_for_correct_and_1_for_wrong():
    y_hat = np.array([0, 1, 1, 0])
    y = np.array([0, 1, 0, 1])
    np.testing.assert_array_equal(losses.zero_one_loss(y_hat, y), [0, 0, 1, 1])
    assert losses.cost(losses.zero_one_loss(y_hat, y)) == 0.5  # = 1 - accuracy


def test_cost_is_the_mean_loss():
    assert losses.cost([1.0, 2.0, 6.0]) == 3.0
    assert losses.mse([1.0, 3.0], [0.0, 0.0]) == 5.0  # (1 + 9) / 2


def test_squared_error_equals_twice_gluon_l2loss(probabilities_and_labels):
    y_hat, y = probabilities_and_labels
    slide = losses.squared_error(y_hat, y)
    l2 = gluon.loss.L2Loss()(nd.array(y_hat), nd.array(y)).asnumpy()
    np.testing.assert_allclose(l2, slide / 2, atol=1e-6)  # L2Loss is HALF the squared error
    np.testing.assert_allclose(losses.gluon_squared_error(nd.array(y_hat), nd.array(y)).asnumpy(),
                               slide, atol=1e-6)
    np.testing.assert_allclose(losses.gluon_loss("squared_error")(nd.array(y_hat), nd.array(y)).asnumpy(),
                               slide, atol=1e-6)


def test_binary_cross_entropy_equals_gluon(probabilities_and_labels):
    y_hat, y = probabilities_and_labels
    slide = losses.binary_cross_entropy(y_hat, y)
    gluon_bce = gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True)
    np.testing.assert_allclose(gluon_bce(nd.array(y_hat), nd.array(y)).asnumpy(), slide, atol=1e-6)
    np.testing.assert_allclose(
        losses.gluon_loss("binary_cross_entropy")(nd.array(y_hat), nd.array(y)).asnumpy(), slide,
        atol=1e-6)
    # -log(y_hat) for diamonds, -log(1 - y_hat) for circles
    np.testing.assert_allclose(slide, np.where(y == 1, -np.log(y_hat), -np.log(1 - y_hat)))


def test_cross_entropy_from_score_equals_slide_formula_and_gluon():
    score = np.array([-50.0, -8.0, -1.5, -0.1, 0.0, 0.3, 2.0, 9.0, 50.0])
    y = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0], dtype=np.float64)
    stable = losses.binary_cross_entropy_from_score(score, y)
    moderate = np.abs(score) < 30  # where sigmoid(score) is not rounded to 0 or 1
    slide = losses.binary_cross_entropy(1 / (1 + np.exp(-score[moderate])), y[moderate])
    np.testing.assert_allclose(stable[moderate], slide, rtol=1e-9)
    gluon_bce = gluon.loss.SigmoidBinaryCrossEntropyLoss()  # from the score, as the toy trains
    np.testing.assert_allclose(gluon_bce(nd.array(score), nd.array(y)).asnumpy(), stable,
                               rtol=1e-6, atol=1e-6)
    assert np.isclose(stable[0], 50.0) and np.isclose(stable[-1], 50.0)  # no inf for big scores


def test_cost_of_gluon_losses_equals_cost_of_slide_losses(probabilities_and_labels):
    y_hat, y = probabilities_and_labels
    gluon_cost = gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=True)(
        nd.array(y_hat), nd.array(y)).mean().asscalar()
    assert abs(losses.cost(losses.binary_cross_entropy(y_hat, y)) - gluon_cost) < 1e-6


def test_gluon_has_no_zero_one_loss():
    with pytest.raises(ValueError, match="0/1 loss has no gradient"):
        losses.gluon_loss("zero_one")
