"""Small workload dicts shared by the network, algorithm and training tests."""

from __future__ import annotations


def synthetic(shape, classes=4, **options):
    return {
        "name": "synthetic",
        "input_shape": list(shape),
        "num_classes": classes,
        "batch_size": 16,
        **options,
    }


def mlp(activation="tanh", classes=4):
    return {
        "name": "mlp",
        "dataset": synthetic([3, 4], classes),
        "layers": [
            {"name": "fc1", "type": "linear", "out_features": 7, "activation": activation},
            {"name": "fc2", "type": "linear", "out_features": 5, "activation": activation},
            {"name": "fc3", "type": "linear", "out_features": classes},
        ],
    }


def cnn2d(pool="avgpool2d", activation="tanh"):
    """conv2d with stride/padding, pooling, a grouped and a dilated conv, then linear."""
    return {
        "name": "cnn2d",
        "dataset": synthetic([2, 11, 10], 3),
        "layers": [
            {
                "name": "conv1",
                "type": "conv2d",
                "out_channels": 4,
                "kernel": 3,
                "stride": 2,
                "padding": 1,
                "activation": activation,
            },
            {"name": "pool1", "type": pool, "kernel": 2},
            {
                "name": "conv2",
                "type": "conv2d",
                "out_channels": 6,
                "kernel": [2, 1],
                "groups": 2,
                "activation": activation,
            },
            {
                "name": "conv3",
                "type": "conv2d",
                "out_channels": 4,
                "kernel": 2,
                "dilation": [1, 2],
                "padding": 1,
                "bias": False,
                "activation": activation,
            },
            {"name": "fc1", "type": "linear", "out_features": 3},
        ],
    }


def cnn1d(pool="avgpool1d", activation="tanh"):
    return {
        "name": "cnn1d",
        "dataset": synthetic([2, 17], 3),
        "layers": [
            {
                "name": "conv1",
                "type": "conv1d",
                "out_channels": 4,
                "kernel": 5,
                "stride": 2,
                "padding": 1,
                "activation": activation,
            },
            {
                "name": "conv2",
                "type": "conv1d",
                "out_channels": 4,
                "kernel": 3,
                "groups": 2,
                "dilation": 2,
                "activation": activation,
            },
            {"name": "pool1", "type": pool, "kernel": 2},
            {"name": "fc1", "type": "linear", "out_features": 6, "activation": activation},
            {"name": "fc2", "type": "linear", "out_features": 3},
        ],
    }


def mlp4(training: dict | None = None) -> dict:
    """Four linear layers 16 -> 12 -> 10 -> 8 -> 4 (ReLU), batch 8: small enough to simulate
    many iterations in well under a second. Parameters (weights + biases): fc1 16*12+12 = 204,
    fc2 12*10+10 = 130, fc3 10*8+8 = 88, fc4 8*4+4 = 36; total 458."""
    return {
        "name": "mlp4",
        "dataset": {"input_shape": [16], "num_classes": 4, "batch_size": 8},
        "layers": [
            {"name": "fc1", "type": "linear", "out_features": 12, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 10, "activation": "relu"},
            {"name": "fc3", "type": "linear", "out_features": 8, "activation": "relu"},
            {"name": "fc4", "type": "linear", "out_features": 4},
        ],
        "training": training or {},
    }
