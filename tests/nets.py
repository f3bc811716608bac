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
