#!/usr/bin/env python3
"""Build the phone verifier ONNX: CenterNet's backbone, pooled, then the trained linear head.

Runs inside the build venv (onnx + onnxruntime), as ``tfjs_convert.py`` does; provisioning
and the training tool import nothing heavy from here at module level.

Usage::

    python tools/models/verifier_build.py BASE_ONNX HEAD_JSON OUT_ONNX
    python tools/models/verifier_build.py --features 528@16,480@32 BASE_ONNX OUT_ONNX

The second form writes the cut, pooled backbone alone (output ``pooled``, ``(N, C)``): what
``tools.train_phone_verifier`` trains the head on.

``BASE_ONNX`` is the converted CenterNet detector (``object_detection_centernet``): a
MobileNetV3 backbone trained on COCO, whose 80 classes include cell phone, remote and book.
The graph is cut at the ``features`` of ``HEAD_JSON``, ``"CHANNELS@STRIDE"`` specs found by
shape (``find_feature``: the backbone's last expansions at stride 16 and stride 32, 528 + 480
channels), its fixed batch of 1 is opened
to any batch (the squeeze-excitation reshapes hard-code it) and its spatial size to any
size, and then: global average pooling of each, concatenated, ``(x - mean) / scale``,
``Gemm`` with the head's coefficients and a sigmoid. Input ``input``
``(N, H, W, 3)`` RGB 0..255 (the detector's own convention); output ``phone`` ``(N, 1)``, the
probability that the crop shows a phone.

The result is checked before it is written: on random crops the graph's output must equal
the head applied in numpy to the cut backbone's pooled features, and a batch must give what
its crops give one at a time. The last stdout line is ``VERIFIER_BUILD_RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULT_PREFIX = "VERIFIER_BUILD_RESULT "
#: Largest allowed difference between the graph and the numpy head (probabilities).
TOLERANCE = 1e-4
CHECK_SIZES = (96, 128, 160)


def _open_batch(model) -> int:
    """Reshape targets that pin the batch to 1 get -1; returns how many were changed."""
    import numpy as np
    from onnx import numpy_helper

    initializers = {init.name: init for init in model.graph.initializer}
    changed = 0
    for node in model.graph.node:
        if node.op_type != "Reshape" or node.input[1] not in initializers:
            continue
        init = initializers[node.input[1]]
        shape = numpy_helper.to_array(init).copy()
        if shape.ndim == 1 and len(shape) == 4 and shape[0] == 1:
            shape[0] = -1
            init.CopyFrom(numpy_helper.from_array(shape.astype(np.int64), init.name))
            changed += 1
    return changed


def find_feature(model, spec: str) -> str:
    """The tensor a ``"CHANNELS@STRIDE"`` spec names: the last hard-swish output (``Mul``) of
    that many channels at that stride, before the head's first upsampling (``Resize``).
    Converted tensor names are not stable from one conversion to the next; the backbone's
    shapes are."""
    channels, stride = (int(part) for part in spec.split("@"))
    side = model.graph.input[0].type.tensor_type.shape.dim[1].dim_value // stride
    shapes = {
        info.name: [d.dim_value for d in info.type.tensor_type.shape.dim]
        for info in model.graph.value_info
    }
    found = None
    for node in model.graph.node:
        if node.op_type == "Resize":
            break
        if node.op_type == "Mul" and shapes.get(node.output[0]) == [1, channels, side, side]:
            found = node.output[0]
    if found is None:
        raise SystemExit(f"no {channels}-channel stride-{stride} activation in the base model")
    return found


def cut_backbone(base_onnx: Path, features: list[str]):
    """The base graph from ``input`` to the ``features`` tensors (``"CHANNELS@STRIDE"``
    specs, ``find_feature``), each average-pooled and concatenated into ``pooled``
    ``(N, sum of their channels)``."""
    import onnx
    from onnx import TensorProto, helper, shape_inference, utils

    model = shape_inference.infer_shapes(onnx.load(str(base_onnx)))
    names = [find_feature(model, spec) for spec in features]
    cut = utils.Extractor(model).extract_model(["input"], names)
    graph = cut.graph
    flat = []
    for index, name in enumerate(names):
        graph.node.extend(
            [
                helper.make_node("GlobalAveragePool", [name], [f"feature{index}_gap"]),
                helper.make_node("Flatten", [f"feature{index}_gap"], [f"feature{index}"], axis=1),
            ]
        )
        flat.append(f"feature{index}")
    graph.node.append(helper.make_node("Concat", flat, ["pooled"], axis=1))
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("pooled", TensorProto.FLOAT, None))
    dims = graph.input[0].type.tensor_type.shape.dim
    for dim, name in zip(dims, ("batch", "height", "width"), strict=False):
        dim.Clear()
        dim.dim_param = name
    del graph.value_info[:]
    _open_batch(cut)
    return cut


def add_head(backbone, head: dict):
    """``backbone`` with the standardisation, the linear head and the sigmoid appended."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = backbone.graph
    mean = np.asarray(head["mean"], np.float32)
    scale = np.asarray(head["scale"], np.float32)
    coef = np.asarray(head["coef"], np.float32).reshape(1, -1)
    intercept = np.asarray([head["intercept"]], np.float32)
    graph.initializer.extend(
        [
            numpy_helper.from_array(mean, "head_mean"),
            numpy_helper.from_array(scale, "head_scale"),
            numpy_helper.from_array(coef, "head_coef"),
            numpy_helper.from_array(intercept, "head_intercept"),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Sub", ["pooled", "head_mean"], ["centred"]),
            helper.make_node("Div", ["centred", "head_scale"], ["standard"]),
            helper.make_node(
                "Gemm", ["standard", "head_coef", "head_intercept"], ["logit"], transB=1
            ),
            helper.make_node("Sigmoid", ["logit"], ["phone"]),
        ]
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info("phone", TensorProto.FLOAT, ["batch", 1]))
    backbone.doc_string = (
        f"proctor phone verifier: {head['backbone']} features + linear head "
        f"(trained by {head['trained_by']})"
    )
    return backbone


def verify(backbone, verifier, head: dict) -> float:
    """Max difference between the verifier and the numpy head over random crops."""
    import numpy as np
    import onnxruntime as ort

    options = {"providers": ["CPUExecutionProvider"]}
    features = ort.InferenceSession(backbone.SerializeToString(), **options)
    full = ort.InferenceSession(verifier.SerializeToString(), **options)
    rng = np.random.default_rng(0)
    coef = np.asarray(head["coef"], np.float64)
    worst = 0.0
    for size in CHECK_SIZES:
        crops = rng.uniform(0, 255, (3, size, size, 3)).astype(np.float32)
        pooled = features.run(None, {"input": crops})[0].astype(np.float64)
        standard = (pooled - head["mean"]) / np.asarray(head["scale"])
        expected = 1 / (1 + np.exp(-(standard @ coef + head["intercept"])))
        got = full.run(None, {"input": crops})[0][:, 0]
        one_by_one = [full.run(None, {"input": crop[None]})[0][0, 0] for crop in crops]
        worst = max(worst, float(np.abs(got - expected).max()))
        worst = max(worst, float(np.abs(got - np.asarray(one_by_one)).max()))
    return worst


def build(base_onnx: Path, head_json: Path, out_onnx: Path) -> dict:
    import onnx

    head = json.loads(head_json.read_text())
    backbone = cut_backbone(base_onnx, head["features"])
    verifier = add_head(cut_backbone(base_onnx, head["features"]), head)
    worst = verify(backbone, verifier, head)
    if worst > TOLERANCE:
        raise SystemExit(f"verifier check failed: max difference {worst:.3g} > {TOLERANCE}")
    onnx.save(verifier, str(out_onnx))
    return {"verified": True, "max_abs_diff": worst, "tolerance": TOLERANCE}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--features",
        help="write the pooled backbone cut at these CHANNELS@STRIDE tensors (comma-separated)",
    )
    parser.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.features:
        import onnx

        base_onnx, out_onnx = args.paths
        onnx.save(cut_backbone(base_onnx, args.features.split(",")), str(out_onnx))
        result = {"verified": True, "features": args.features}
    else:
        result = build(*args.paths)
    print(RESULT_PREFIX + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
