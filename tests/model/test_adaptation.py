import pytest
import torch

from pipeline.adaptation.coral import CoralLoss, coral_distance
from pipeline.adaptation.dann import DomainAdversarialLoss, GradientReversal
from pipeline.adaptation.information_max import InformationMaxLoss, information_max_loss
from pipeline.adaptation.l2sp import L2SP
from pipeline.adaptation.self_training import ClassBalancedThreshold, PseudoLabelLoss
from pipeline.augment import random_affine
from pipeline.finetuning import TransferData, auxiliary_losses
from pipeline.models import build_model
from pipeline.training import Split
from tests.workspace import tiny_params


def model():
    torch.manual_seed(0)
    return build_model(tiny_params()["model"], [1, 8, 8], 10, 16.0)


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.randn(4, 3, requires_grad=True)
    GradientReversal.apply(x, 0.5).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((4, 3), -0.5))


def test_dann_trains_the_discriminator_to_separate_and_the_features_to_confuse():
    net = model()
    images = torch.rand(16, 1, 8, 8) * 16
    loss_fn = DomainAdversarialLoss(32, images, images.flip(-1), weight=1.0, batch_size=8, seed=0)
    loss_fn(net).backward()
    feature_param = next(net.backbone.parameters())
    disc_param = loss_fn.discriminator[0].weight
    # The same loss without reversal gives the opposite gradient on the feature extractor only.
    feature_grad, disc_grad = feature_param.grad.clone(), disc_param.grad.clone()
    net.zero_grad(), loss_fn.zero_grad()
    loss_fn.reversal = -1.0
    loss_fn.source.generator.manual_seed(0), loss_fn.target.generator.manual_seed(1)
    DomainAdversarialLoss.forward(loss_fn, net).backward()
    assert disc_grad.abs().sum() > 0
    assert torch.allclose(disc_param.grad, disc_grad, atol=1e-6)
    assert torch.allclose(feature_param.grad, -feature_grad, atol=1e-6)


def test_coral_is_zero_for_identical_features_and_positive_otherwise():
    a = torch.randn(64, 8)
    assert coral_distance(a, a).item() == 0
    assert coral_distance(a, a * 3).item() > 0
    images = torch.rand(16, 1, 8, 8) * 16
    assert CoralLoss(images, images * 0.5, weight=1.0, batch_size=8, seed=0)(model()).item() > 0


def test_l2sp_is_zero_at_the_pretrained_weights_and_grows_away_from_them():
    net = model()
    penalty = L2SP(net, weight=2.0)
    assert penalty(net).item() == 0
    with torch.no_grad():
        next(net.backbone.parameters()).add_(1.0)
    assert penalty(net).item() > 0


def test_pseudo_labels_use_only_confident_predictions():
    net = model()
    images = torch.rand(16, 1, 8, 8) * 16
    assert PseudoLabelLoss(images, random_affine, weight=1.0, threshold=1.01, batch_size=8, seed=0)(net).item() == 0
    assert PseudoLabelLoss(images, random_affine, weight=1.0, threshold=0.0, batch_size=8, seed=0)(net).item() > 0


def test_information_max_rewards_confident_predictions_spread_over_the_classes():
    confident_and_diverse = torch.eye(4) * 50
    confident_one_class = torch.zeros(4, 4)
    confident_one_class[:, 0] = 50
    unsure = torch.zeros(4, 4)
    # Its minimum, -log(classes), is reached only by sure predictions that cover every class equally.
    assert information_max_loss(confident_and_diverse).item() == pytest.approx(-torch.log(torch.tensor(4.0)).item(), abs=1e-4)
    assert information_max_loss(confident_one_class).item() == pytest.approx(0.0, abs=1e-4)
    assert information_max_loss(unsure).item() == pytest.approx(0.0, abs=1e-4)


def test_information_max_trains_the_model_on_unlabelled_images():
    net = model()
    loss = InformationMaxLoss(torch.rand(16, 1, 8, 8) * 16, weight=0.5, batch_size=8, seed=0)(net)
    loss.backward()
    assert next(net.backbone.parameters()).grad.abs().sum() > 0


def test_random_affine_keeps_shape_and_range():
    images = torch.rand(10, 1, 8, 8) * 16
    out = random_affine(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 16
    assert not torch.equal(out, images)


def test_pseudo_labels_come_from_the_teacher_and_train_only_the_student():
    student, teacher = model(), model()
    with torch.no_grad():
        teacher.classifier.bias.copy_(torch.arange(10.0) * 100)  # the teacher is sure of class 9 everywhere
    images = torch.rand(16, 1, 8, 8) * 16
    assert PseudoLabelLoss(images, random_affine, weight=1.0, threshold=0.99, batch_size=8, seed=0)(student).item() == 0
    loss_fn = PseudoLabelLoss(images, random_affine, weight=1.0, threshold=0.99, batch_size=8, seed=0, teacher=teacher)
    assert list(loss_fn.parameters()) == []
    loss_fn(student).backward()
    bias_grad = student.classifier.bias.grad
    assert bias_grad[9] < 0 and (bias_grad[:9] > 0).all()
    assert all(p.grad is None for p in teacher.parameters())


def test_class_balanced_threshold_lowers_the_bar_for_rarely_predicted_classes():
    threshold = ClassBalancedThreshold(0.9, momentum=0.5)
    # Class 0 takes most of the probability mass; class 1 is predicted, but less often and less surely.
    probabilities = torch.tensor([[0.95, 0.05], [0.95, 0.05], [0.95, 0.05], [0.3, 0.7]])
    bars = threshold(probabilities)
    share = probabilities.mean(0)
    assert torch.allclose(bars, torch.tensor([0.9, 0.9, 0.9, 0.9 * share[1] / share[0]]))
    # The moving average: a batch of only class-1 predictions moves the shares halfway toward it.
    threshold(torch.tensor([[0.0, 1.0]]))
    assert torch.allclose(threshold.class_mass, 0.5 * share + 0.5 * torch.tensor([0.0, 1.0]))


@pytest.mark.parametrize("balanced", [True, False])
def test_params_switch_the_class_balanced_threshold(balanced):
    split = Split(torch.rand(4, 1, 8, 8) * 16, torch.arange(4))
    data = TransferData(split, split, None, torch.rand(6, 1, 8, 8) * 16)
    cfg = {**tiny_params()["finetune"], "pseudo_class_balanced": balanced, "information_max": 0.0}
    (loss,) = auxiliary_losses(model(), cfg, data, seed=0)
    assert isinstance(loss.threshold, ClassBalancedThreshold) == balanced


def test_params_switch_information_max_on_and_off():
    split = Split(torch.rand(4, 1, 8, 8) * 16, torch.arange(4))
    data = TransferData(split, split, None, torch.rand(6, 1, 8, 8) * 16)
    cfg = {**tiny_params()["finetune"], "self_training": 0.0}
    assert auxiliary_losses(model(), {**cfg, "information_max": 0.0}, data, seed=0) == []
    (loss,) = auxiliary_losses(model(), {**cfg, "information_max": 0.3}, data, seed=0)
    assert isinstance(loss, InformationMaxLoss) and loss.weight == 0.3
    # It sees every target training image, labelled or not.
    assert len(loss.target.tensors[0]) == 10
