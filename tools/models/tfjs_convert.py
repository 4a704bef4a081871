#!/usr/bin/env python3
"""Convert a TensorFlow.js *graph model* (model.json + .bin shards) to ONNX.

This script runs inside the throwaway build venv made by
``tools.models.build_env.ensure_build_env`` (TensorFlow + tf2onnx + onnx +
onnxruntime). Provisioning, in the service's venv, imports it only for
:func:`source_sha256` and its constants: the module top imports the standard
library only, and every heavy dependency is imported inside the functions that
need it.

Usage::

    python tools/models/tfjs_convert.py MODEL_JSON OUT_ONNX [--opset 17] [--seed 0]

What is pinned: the *inputs*. The npm tarball has a pinned sha256, and so has each
model's ``model.json`` + weight shards (:func:`source_sha256`, also stored in the
ONNX metadata as ``tfjs.source_sha256``); provisioning checks both before
converting. The converted bytes are not pinned: tf2onnx's optimizers and
TensorFlow's kernels need not produce the same bytes on another CPU or run.
What guarantees the output instead is step 4, which is mandatory.

What it does, in order:

1. Reads the TFJS ``model.json`` (gzip-compressed files are accepted) and writes a
   *patched* copy into a temporary directory (weights decompressed if needed,
   all weight groups merged into one, because tf2onnx only reads
   ``weightsManifest[0]``). The patches work around tf2onnx 1.17 + TensorFlow
   2.21 incompatibilities with graphs exported by the TFJS converter:

   * ``_FusedConv2D`` nodes lack the ``TArgs`` attribute that TF 2.21's op
     definition requires (TF refuses to import the node for shape inference):
     set to ``[T] * num_args``.
   * ``TopKV2`` nodes lack ``index_type``; tf2onnx reads it to find the dtype
     of the indices output: set to ``DT_INT32`` (the TF default).
   * Every other node is checked against TF's op registry; a required
     attribute that is still missing aborts with a clear message instead of a
     confusing failure deep inside tf2onnx.

   tf2onnx 1.17 also calls ``np.product`` (removed in numpy 2); the build venv
   pins numpy<2 and this script additionally aliases ``np.product = np.prod``
   when it is missing, so either numpy works.

2. Converts with tf2onnx (``process_tf_graph(tfjs_path=...)`` + its optimizer,
   i.e. what ``python -m tf2onnx.convert --tfjs`` does). Inputs/outputs are
   passed explicitly: the model's ``signature`` (top-level or under
   ``userDefinedMetadata``), else Placeholder nodes / dangling non-Const nodes.
   fp16-quantized TFJS weights are dequantized to float32 (as TFJS itself does
   at load time), so the ONNX model is float32 throughout.

3. Renames the graph I/O to stable names the runtime can rely on:

   * the single input becomes ``input``;
   * outputs become ``output0``, ``output1``, ... in **descending order of their
     ONNX output shape**, shapes compared as Python tuples of ints (unknown /
     symbolic dims count as -1; ties broken by the original TFJS tensor name,
     ascending). Example: nanodet ``(1,2704,80) > (1,2704,44) > (1,676,80) > ...``.
     Output dims tf2onnx could not infer (nanodet: all of them) are first
     filled in from the TFJS signature, and checked against the real output
     shapes during verification;
   * symbolic dims on the graph I/O are renamed canonically (``batch`` for the
     input's first dim, ``d0``, ``d1``, ... for the others).

   The runtime wrappers rely on these names. The original TFJS names, in the new
   order, are stored in the ONNX ``metadata_props`` (``tfjs.input``,
   ``tfjs.outputs``) together with the sha256 of the source files and the
   converter versions.

4. Verifies the saved ONNX file (onnxruntime) against TensorFlow executing the
   same TFJS graph (rebuilt as a plain TF GraphDef from the same JSON/weights;
   TFJS-only ops -- ``_FusedConv2D``/``FusedDepthwiseConv2dNative`` and
   ``Prelu`` -- are expanded into primitive TF ops, which independently
   re-derives their semantics instead of trusting tf2onnx's handlers) on a
   deterministic random input (``numpy.random.default_rng(seed)``, uniform in
   ``[0, 1)``, unknown dims = 1). The max abs diff per output is printed; the
   conversion fails if ``max|onnx - tf| > 1e-3 * max(1, max|tf|)`` for any
   output, and also if the graph uses something the reference builder cannot
   express (function library, unknown op): an unverified model is never written.

The last stdout line is ``TFJS_CONVERT_RESULT {json}``; ``build_env.convert_tfjs``
parses it and accepts the file only when ``verification.verified`` is true.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

#: Documented output-ordering rule (also stored in the ONNX metadata).
OUTPUT_ORDER = (
    "outputs sorted by ONNX shape descending (tuple compare, unknown dims = -1), "
    "ties by original TFJS tensor name ascending"
)
#: Stable I/O names.
INPUT_NAME = "input"
OUTPUT_PREFIX = "output"
#: Relative tolerance of the TF-vs-ONNX check: max|onnx-tf| <= RTOL * max(1, max|tf|).
VERIFY_RTOL = 1e-3
#: Start of the one stdout line that reports the result as JSON (parsed by build_env).
RESULT_PREFIX = "TFJS_CONVERT_RESULT "

_PLACEHOLDER_OPS = ("Placeholder", "PlaceholderWithDefault", "PlaceholderV2")
_FUSED_CONV_OPS = {
    "_FusedConv2D": "Conv2D",
    "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
    "_FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
}
_UNARY_ACTIVATIONS = ("Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh")


class ConversionError(RuntimeError):
    """Raised when the model cannot be converted or fails verification."""


class _VerifyUnsupported(Exception):
    """The TF reference graph cannot be built, so the model cannot be verified; ``_verify``
    turns this into a ConversionError (an unverified model is never written)."""


def _log(msg: str) -> None:
    print(f"[tfjs_convert] {msg}", flush=True)


# --------------------------------------------------------------------------- #
# TFJS model.json handling (stdlib only)
# --------------------------------------------------------------------------- #


def _read_maybe_gzip(path: Path) -> tuple[bytes, bool]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data), True
    return data, False


def _read_model_json(model_json: Path) -> tuple[dict[str, Any], bool]:
    """The parsed graph model and whether its files are gzip-compressed."""
    raw, zipped = _read_maybe_gzip(model_json)
    model = json.loads(raw)
    topo = model.get("modelTopology", {})
    fmt = model.get("format") or topo.get("format") or "graph-model"
    if fmt != "graph-model" or "keras_version" in topo:
        raise ConversionError(f"{model_json}: not a TFJS graph model (format={fmt!r})")
    return model, zipped


def _shard_paths(model_json: Path, model: dict[str, Any]) -> list[list[Path]]:
    """The weight shard files of each weights-manifest group, in manifest order."""
    groups = []
    for group in model.get("weightsManifest", []):
        paths = [model_json.parent / rel for rel in group["paths"]]
        for path in paths:
            if not path.is_file():
                raise ConversionError(f"missing weight shard {path}")
        groups.append(paths)
    return groups


def source_sha256(model_json: Path) -> str:
    """sha256 over the bytes of ``model.json`` then every weight shard in manifest order:
    the pinned identity of a TFJS model's inputs (``NpmTfjsSource.model_sha256``)."""
    model, _ = _read_model_json(model_json)
    digest = hashlib.sha256(model_json.read_bytes())
    for paths in _shard_paths(model_json, model):
        for path in paths:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _load_model(model_json: Path) -> tuple[dict[str, Any], list[bytes]]:
    """Return (model dict, decompressed weight bytes per group)."""
    model, zipped = _read_model_json(model_json)
    groups = []
    for paths in _shard_paths(model_json, model):
        shards = [path.read_bytes() for path in paths]
        groups.append(b"".join(gzip.decompress(s) if zipped else s for s in shards))
    return model, groups


def _signature(model: dict[str, Any]) -> dict[str, Any] | None:
    sig = model.get("signature")
    if not sig:
        sig = (model.get("userDefinedMetadata") or {}).get("signature")
    return sig or None


def _with_port(name: str) -> str:
    return name if ":" in name else name + ":0"


def _signature_shapes(model: dict[str, Any]) -> dict[str, list[int]]:
    """{"node:port": [dims]} for every signature tensor (-1 = unknown)."""
    sig = _signature(model) or {}
    shapes: dict[str, list[int]] = {}
    for part in ("inputs", "outputs"):
        for v in (sig.get(part) or {}).values():
            dims = (v.get("tensorShape") or {}).get("dim")
            if dims is not None:
                shapes[_with_port(v["name"])] = [int(d.get("size", -1)) for d in dims]
    return shapes


def _io_names(model: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Graph input and output tensor names ("node:port")."""
    nodes = model["modelTopology"]["node"]
    sig = _signature(model)
    inputs: list[str] = []
    outputs: list[str] = []
    if sig:
        inputs = [_with_port(v["name"]) for v in (sig.get("inputs") or {}).values()]
        outputs = [_with_port(v["name"]) for v in (sig.get("outputs") or {}).values()]
    if not inputs:
        inputs = [n["name"] + ":0" for n in nodes if n["op"] in _PLACEHOLDER_OPS]
    if not outputs:
        consumed = {i.lstrip("^").split(":")[0] for n in nodes for i in n.get("input", [])}
        outputs = [
            n["name"] + ":0"
            for n in nodes
            if n["name"] not in consumed
            and n["op"] not in ("Const", "NoOp")
            and n["op"] not in _PLACEHOLDER_OPS
        ]
    if len(inputs) != 1:
        raise ConversionError(f"expected exactly one graph input, found {inputs}")
    if not outputs:
        raise ConversionError("could not determine graph outputs")
    return inputs, sorted(set(outputs), key=outputs.index)


def _patch_nodes(nodes: list[dict[str, Any]]) -> list[str]:
    """Add attributes TF 2.21 / tf2onnx 1.17 need but TFJS graphs omit.

    Returns a sorted list of human-readable fix descriptions (with counts).
    """
    fixes: dict[str, int] = {}

    def note(fix: str) -> None:
        fixes[fix] = fixes.get(fix, 0) + 1

    for node in nodes:
        attr = node.setdefault("attr", {})
        op = node["op"]
        if op == "_FusedConv2D" and "TArgs" not in attr:
            t = attr.get("T", {}).get("type", "DT_FLOAT")
            n_args = int(attr.get("num_args", {}).get("i", 0))
            attr["TArgs"] = {"list": {"type": [t] * n_args}}
            note("_FusedConv2D: added TArgs=[T]*num_args")
        if op == "TopKV2" and "index_type" not in attr:
            attr["index_type"] = {"type": "DT_INT32"}
            note("TopKV2: added index_type=DT_INT32")
    return sorted(f"{k} (x{v})" for k, v in fixes.items())


def _check_required_attrs(nodes: list[dict[str, Any]]) -> None:
    """Fail early (and clearly) if a node still lacks a required TF attribute."""
    from tensorflow.python.framework import op_def_registry

    problems = []
    for node in nodes:
        op = node["op"]
        if op == "Const":
            continue  # value comes from the weights manifest
        if op == "FusedDepthwiseConv2dNative":
            op = "_FusedDepthwiseConv2dNative"  # tf2onnx renames it the same way
        op_def = op_def_registry.get(op)
        if op_def is None:
            continue  # TFJS-only op (e.g. Prelu): tf2onnx handles it itself
        have = set(node.get("attr", {}))
        for a in op_def.attr:
            if not a.HasField("default_value") and a.name not in have:
                problems.append(f"{node['name']} ({op}) lacks attr {a.name!r}")
    if problems:
        raise ConversionError(
            "TFJS graph has nodes that TF cannot import; add a patch in "
            "_patch_nodes():\n  " + "\n  ".join(problems[:20])
        )


def _write_patched_model(
    model: dict[str, Any], groups: list[bytes], workdir: Path, stem: str
) -> Path:
    """Write model.json + a single weight shard that tf2onnx can read."""
    patched = json.loads(json.dumps(model))  # deep copy
    manifest = patched.get("weightsManifest", [])
    merged_weights = [w for g in manifest for w in g["weights"]]
    shard_name = f"{stem}.weights.bin"
    (workdir / shard_name).write_bytes(b"".join(groups))
    patched["weightsManifest"] = [{"paths": [shard_name], "weights": merged_weights}]
    out = workdir / f"{stem}.json"
    out.write_text(json.dumps(patched), encoding="utf-8")
    return out


# --------------------------------------------------------------------------- #
# Weight decoding (for the TF reference graph)
# --------------------------------------------------------------------------- #


def _decode_weights(model: dict[str, Any], groups: list[bytes]) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {}
    for group, data in zip(model.get("weightsManifest", []), groups, strict=True):
        offset = 0
        for w in group["weights"]:
            shape = [int(d) for d in w["shape"]]
            count = 1
            for d in shape:
                count *= d
            dtype = w["dtype"]
            if dtype == "string":
                raise _VerifyUnsupported("string weights")
            target = np.dtype(dtype)
            q = w.get("quantization")
            if q:
                qd = np.dtype(q["dtype"])
                arr = np.frombuffer(data, dtype=qd, count=count, offset=offset)
                offset += arr.nbytes
                if "scale" in q:
                    arr = arr.astype(np.float32) * q["scale"] + q["min"]
                arr = arr.astype(target)
            else:
                arr = np.frombuffer(data, dtype=target, count=count, offset=offset)
                offset += arr.nbytes
            out[w["name"]] = arr.reshape(shape)
        if offset != len(data):
            raise _VerifyUnsupported(f"weight bytes mismatch ({offset} != {len(data)})")
    return out


# --------------------------------------------------------------------------- #
# TF reference graph
# --------------------------------------------------------------------------- #


def _build_reference_graph_def(model: dict[str, Any], weights: dict[str, Any]) -> Any:
    """Rebuild the TFJS graph as a TF GraphDef runnable by stock TensorFlow."""
    import tensorflow as tf
    from google.protobuf.json_format import ParseDict
    from tensorflow.core.framework import attr_value_pb2, graph_pb2, node_def_pb2
    from tensorflow.python.framework import op_def_registry

    topo = model["modelTopology"]
    if (topo.get("library") or {}).get("function"):
        raise _VerifyUnsupported("graph uses a function library (control flow)")

    gd = graph_pb2.GraphDef()

    def add(name: str, op: str, inputs: list[str], attrs: dict[str, Any]) -> None:
        nd = node_def_pb2.NodeDef(name=name, op=op)
        nd.input.extend(inputs)
        for k, v in attrs.items():
            nd.attr[k].CopyFrom(v)
        gd.node.append(nd)

    def prelu(name: str, x: str, alpha: str, t: Any) -> None:
        # prelu(x) = relu(x) - alpha * relu(-x)
        add(f"{name}/__ref_pos", "Relu", [x], {"T": t})
        add(f"{name}/__ref_neg", "Neg", [x], {"T": t})
        add(f"{name}/__ref_negrelu", "Relu", [f"{name}/__ref_neg"], {"T": t})
        add(f"{name}/__ref_scaled", "Mul", [alpha, f"{name}/__ref_negrelu"], {"T": t})
        add(name, "Sub", [f"{name}/__ref_pos", f"{name}/__ref_scaled"], {"T": t})

    for node in topo["node"]:
        if any(i.count(":") > 1 for i in node.get("input", [])):
            raise _VerifyUnsupported("function-style tensor names")
        body = {k: v for k, v in node.items() if k in ("name", "op", "input", "attr")}
        nd = node_def_pb2.NodeDef()
        ParseDict(body, nd)
        name, op = nd.name, nd.op
        data_in = [i for i in nd.input if not i.startswith("^")]
        ctrl_in = [i for i in nd.input if i.startswith("^")]

        if op == "Const":
            dt = tf.dtypes.as_dtype(nd.attr["dtype"].type)
            if name not in weights:
                raise _VerifyUnsupported(f"no weight for Const {name}")
            value = weights[name].astype(dt.as_numpy_dtype)
            add(
                name,
                "Const",
                ctrl_in,
                {
                    "dtype": nd.attr["dtype"],
                    "value": attr_value_pb2.AttrValue(tensor=tf.make_tensor_proto(value)),
                },
            )
            continue

        if op == "Prelu":  # TFJS-only op, often without a T attr
            t = (
                nd.attr["T"]
                if nd.attr["T"].type
                else attr_value_pb2.AttrValue(type=tf.float32.as_datatype_enum)
            )
            prelu(name, data_in[0], data_in[1], t)
            continue

        if op in _FUSED_CONV_OPS:
            base = _FUSED_CONV_OPS[op]
            fused = [s.decode() for s in nd.attr["fused_ops"].list.s]
            x, w, args = data_in[0], data_in[1], data_in[2:]
            t = nd.attr["T"]
            base_def = op_def_registry.get(base)
            conv_attrs = {
                a.name: nd.attr[a.name]
                for a in base_def.attr
                if a.name in nd.attr and a.name != "T"
            }
            conv_attrs["T"] = t
            # (op, extra inputs after the running tensor, attrs)
            steps: list[tuple[str, list[str], dict[str, Any]]] = [(base, [w, *ctrl_in], conv_attrs)]
            rest = list(fused)
            if rest and rest[0] == "BiasAdd":
                bias_attrs = {"T": t}
                if "data_format" in nd.attr and nd.attr["data_format"].s:
                    bias_attrs["data_format"] = nd.attr["data_format"]
                steps.append(("BiasAdd", [args[0]], bias_attrs))
                rest = rest[1:]
            elif rest:
                raise _VerifyUnsupported(f"{op} fused_ops={fused}")
            act = rest[0] if rest else None
            if len(rest) > 1:
                raise _VerifyUnsupported(f"{op} fused_ops={fused}")
            if act is not None and act not in (*_UNARY_ACTIVATIONS, "LeakyRelu", "Prelu"):
                raise _VerifyUnsupported(f"{op} activation {act}")
            # name the chain so that the last step carries the node's name
            n_steps = len(steps) + (1 if act else 0)
            prev = x
            for k, (sop, extra, sattrs) in enumerate(steps):
                sname = name if k == n_steps - 1 else f"{name}/__ref_{k}"
                add(sname, sop, [prev, *extra], sattrs)
                prev = sname
            if act in _UNARY_ACTIVATIONS:
                add(name, act, [prev], {"T": t})
            elif act == "LeakyRelu":
                alpha = nd.attr["leakyrelu_alpha"].f if "leakyrelu_alpha" in nd.attr else 0.2
                add(name, "LeakyRelu", [prev], {"T": t, "alpha": attr_value_pb2.AttrValue(f=alpha)})
            elif act == "Prelu":
                prelu(name, prev, args[1], t)
            continue

        op_def = op_def_registry.get(op)
        if op_def is None:
            raise _VerifyUnsupported(f"op {op} is not a TF op")
        allowed = {a.name for a in op_def.attr}
        for k in list(nd.attr):
            if k not in allowed:
                del nd.attr[k]
        gd.node.append(nd)
    return gd


def _run_reference(
    model: dict[str, Any],
    groups: list[bytes],
    input_name: str,
    output_names: list[str],
    x: Any,
) -> list[Any]:
    import tensorflow as tf

    weights = _decode_weights(model, groups)
    gd = _build_reference_graph_def(model, weights)
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(gd, name="")
    with tf.compat.v1.Session(graph=graph) as sess:
        return list(sess.run(output_names, feed_dict={input_name: x}))


# --------------------------------------------------------------------------- #
# ONNX post-processing
# --------------------------------------------------------------------------- #


def _shape_of(value_info: Any) -> tuple[int, ...]:
    dims = value_info.type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else -1 for d in dims)


def _all_tensor_names(graph: Any, acc: set[str]) -> set[str]:
    from onnx import AttributeProto

    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        acc.add(vi.name)
    for init in graph.initializer:
        acc.add(init.name)
    for node in graph.node:
        acc.update(node.input)
        acc.update(node.output)
        for a in node.attribute:
            if a.type == AttributeProto.GRAPH:
                _all_tensor_names(a.g, acc)
            elif a.type == AttributeProto.GRAPHS:
                for g in a.graphs:
                    _all_tensor_names(g, acc)
    return acc


def _rename_in_graph(graph: Any, mapping: dict[str, str]) -> None:
    from onnx import AttributeProto

    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        vi.name = mapping.get(vi.name, vi.name)
    for init in graph.initializer:
        init.name = mapping.get(init.name, init.name)
    for node in graph.node:
        node.input[:] = [mapping.get(n, n) for n in node.input]
        node.output[:] = [mapping.get(n, n) for n in node.output]
        for a in node.attribute:
            if a.type == AttributeProto.GRAPH:
                _rename_in_graph(a.g, mapping)
            elif a.type == AttributeProto.GRAPHS:
                for g in a.graphs:
                    _rename_in_graph(g, mapping)


def _fill_output_shapes(model_proto: Any, sig_shapes: dict[str, list[int]]) -> None:
    """Where tf2onnx left an output dim unknown, take it from the TFJS signature.

    tf2onnx cannot infer shapes through some TFJS graphs (nanodet: all dims of
    all six outputs come out symbolic). The signature's concrete dims are
    checked against the real output shapes during verification.
    """
    for out in model_proto.graph.output:
        sig = sig_shapes.get(_with_port(out.name))
        shape = out.type.tensor_type.shape
        if sig is None:
            continue
        if not shape.dim:
            for _ in sig:
                shape.dim.add()
        if len(shape.dim) != len(sig):
            continue
        for d, s in zip(shape.dim, sig, strict=True):
            if not d.HasField("dim_value") and s > 0:
                d.dim_value = s


def _stabilize_io(model_proto: Any, tfjs_outputs: list[str]) -> tuple[list[str], dict[str, str]]:
    """Rename I/O to input/outputN (shape-descending order). Returns
    (original TFJS output names in new order, {stable name: original name})."""
    graph = model_proto.graph
    init_names = {i.name for i in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in init_names]
    if len(real_inputs) != 1:
        raise ConversionError(f"expected one ONNX input, got {[i.name for i in real_inputs]}")
    onnx_out_names = [o.name for o in graph.output]
    if sorted(onnx_out_names) != sorted(tfjs_outputs):
        raise ConversionError(
            f"ONNX outputs {onnx_out_names} do not match requested {tfjs_outputs}"
        )
    by_name = {o.name: o for o in graph.output}
    ordered = sorted(onnx_out_names, key=lambda n: (tuple(-d for d in _shape_of(by_name[n])), n))
    mapping = {real_inputs[0].name: INPUT_NAME}
    mapping.update({n: f"{OUTPUT_PREFIX}{i}" for i, n in enumerate(ordered)})
    existing = _all_tensor_names(graph, set()) - set(mapping)
    clash = existing & set(mapping.values())
    if clash:
        raise ConversionError(f"stable names already used inside the graph: {clash}")
    _rename_in_graph(graph, mapping)
    # reorder graph.output to output0..N
    outs = sorted(graph.output, key=lambda o: int(o.name[len(OUTPUT_PREFIX) :]))
    new_outs = [type(o)() for o in outs]
    for dst, src in zip(new_outs, outs, strict=True):
        dst.CopyFrom(src)
    del graph.output[:]
    graph.output.extend(new_outs)
    # canonical symbolic dims on graph I/O
    dim_map: dict[str, str] = {}
    io = [i for i in graph.input if i.name == INPUT_NAME] + list(graph.output)
    for k, vi in enumerate(io):
        for j, d in enumerate(vi.type.tensor_type.shape.dim):
            if d.HasField("dim_param"):
                if d.dim_param not in dim_map:
                    n_other = sum(1 for v in dim_map.values() if v != "batch")
                    dim_map[d.dim_param] = "batch" if k == 0 and j == 0 else f"d{n_other}"
                d.dim_param = dim_map[d.dim_param]
    return ordered, {mapping[n]: n for n in ordered}


# --------------------------------------------------------------------------- #
# Verification
# --------------------------------------------------------------------------- #


def _verify(
    out_onnx: Path,
    model: dict[str, Any],
    groups: list[bytes],
    tfjs_input: str,
    stable_to_tfjs: dict[str, str],
    seed: int,
) -> dict[str, Any]:
    """Run the written ONNX file (onnxruntime) and the TF reference graph on the same input;
    raises ConversionError when they differ, or when the reference cannot be built."""
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(out_onnx), so, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) and d > 0 else 1 for d in inp.shape]
    out_names = [o.name for o in sess.get_outputs()]
    declared_shapes = {
        o.name: [d if isinstance(d, int) else -1 for d in o.shape] for o in sess.get_outputs()
    }
    rng = np.random.default_rng(seed)
    if "float" in inp.type:
        x = rng.random(shape, dtype=np.float32)
    else:
        x = rng.integers(0, 256, size=shape).astype(np.int32)
    got = sess.run(out_names, {INPUT_NAME: x})

    try:
        ref = _run_reference(
            model, groups, tfjs_input, [_with_port(stable_to_tfjs[n]) for n in out_names], x
        )
    except _VerifyUnsupported as exc:
        raise ConversionError(
            f"cannot verify against TensorFlow (reference graph not buildable: {exc}); "
            "refusing an unverified model"
        ) from exc

    report: dict[str, Any] = {
        "verified": True,
        "seed": seed,
        "input_shape": shape,
        "tolerance": VERIFY_RTOL,
        "outputs": {},
    }
    failures = []
    for name, a in zip(out_names, got, strict=True):
        declared = declared_shapes[name]
        if len(declared) != np.ndim(a) or any(
            d > 0 and d != r for d, r in zip(declared, np.shape(a), strict=True)
        ):
            failures.append(f"{name}: ONNX ran to shape {np.shape(a)}, declared {declared}")
    for name, a, b in zip(out_names, got, ref, strict=True):
        a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a64.shape != b64.shape:
            failures.append(f"{name}: shape {a64.shape} != TF {b64.shape}")
            continue
        diff = float(np.max(np.abs(a64 - b64))) if a64.size else 0.0
        scale = max(1.0, float(np.max(np.abs(b64))) if b64.size else 0.0)
        rel = diff / scale
        report["outputs"][name] = {"max_abs_diff": diff, "rel": rel}
        _log(
            f"verify {name} ({stable_to_tfjs[name]}) shape={list(a64.shape)} "
            f"max_abs_diff={diff:.3g} rel={rel:.3g}"
        )
        if not np.isfinite(diff) or rel > VERIFY_RTOL:
            failures.append(f"{name}: max_abs_diff={diff:.4g} rel={rel:.4g} > {VERIFY_RTOL}")
    if failures:
        raise ConversionError("ONNX does not match TensorFlow:\n  " + "\n  ".join(failures))
    report["max_rel_diff"] = max(o["rel"] for o in report["outputs"].values())
    return report


# --------------------------------------------------------------------------- #
# Main entry point
# --------------------------------------------------------------------------- #


def convert(model_json: Path, out_onnx: Path, opset: int = 17, *, seed: int = 0) -> None:
    """Convert a TFJS graph model to ONNX with stable I/O names (see module doc).

    Raises ConversionError on any failure, including a failed or impossible TF-vs-ONNX
    check. The output file is written atomically (temp file + rename), after the check.
    """
    model_json = Path(model_json).resolve()
    out_onnx = Path(out_onnx).resolve()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()

    model, groups = _load_model(model_json)
    nodes = model["modelTopology"]["node"]
    fixes = _patch_nodes(nodes)
    for node in (model["modelTopology"].get("library") or {}).get("function", []):
        fixes += _patch_nodes(node.get("nodeDef", []))
    inputs, outputs = _io_names(model)

    import numpy as np

    if not hasattr(np, "product"):  # tf2onnx 1.17 uses np.product (gone in numpy 2)
        np.product = np.prod  # type: ignore[attr-defined]
        fixes.append("numpy: aliased np.product = np.prod")
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    import logging

    import onnx
    import tensorflow as tf
    import tf2onnx
    from tf2onnx import optimizer, tfonnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    tf.get_logger().setLevel(logging.ERROR)
    _check_required_attrs(nodes)

    _log(f"{model_json.name}: inputs={inputs} outputs={outputs}")
    for f in fixes:
        _log(f"fix: {f}")

    with tempfile.TemporaryDirectory(prefix="tfjs2onnx-") as td:
        work = Path(td)
        patched = _write_patched_model(model, groups, work, model_json.stem)
        with tf.device("/cpu:0"), tf.Graph().as_default():
            g = tfonnx.process_tf_graph(
                None,
                opset=opset,
                input_names=inputs,
                output_names=outputs,
                tfjs_path=str(patched),
            )
            g = optimizer.optimize_graph(g, catch_errors=True)
            model_proto = g.make_model(f"converted from TFJS {model_json.name}")

        _fill_output_shapes(model_proto, _signature_shapes(model))
        ordered, stable_to_tfjs = _stabilize_io(model_proto, outputs)
        model_proto.doc_string = f"TFJS graph model {model_json.name} converted by proctor"
        meta = {
            "tfjs.source": model_json.name,
            "tfjs.source_sha256": source_sha256(model_json),
            "tfjs.input": inputs[0],
            "tfjs.outputs": json.dumps(ordered),
            "proctor.output_order": OUTPUT_ORDER,
            "proctor.converter": (
                f"tf2onnx=={tf2onnx.__version__} tensorflow=={tf.__version__} "
                f"onnx=={onnx.__version__} opset={opset}"
            ),
            "proctor.fixes": json.dumps(sorted(fixes)),
        }
        del model_proto.metadata_props[:]
        for k, v in meta.items():
            p = model_proto.metadata_props.add()
            p.key, p.value = k, v
        onnx.checker.check_model(model_proto, full_check=True)

        tmp_out = work / "model.onnx"
        tmp_out.write_bytes(model_proto.SerializeToString())
        t_conv = time.perf_counter() - t0
        for inp in model_proto.graph.input:
            _log(f"input  {inp.name}: {_fmt_vi(inp)} (tfjs {inputs[0]})")
        for o in model_proto.graph.output:
            _log(f"output {o.name}: {_fmt_vi(o)} (tfjs {stable_to_tfjs[o.name]})")
        _log(f"converted in {t_conv:.1f}s")

        t1 = time.perf_counter()
        report = _verify(tmp_out, model, groups, inputs[0], stable_to_tfjs, seed)
        _log(f"verified in {time.perf_counter() - t1:.1f}s")

        out_onnx.parent.mkdir(parents=True, exist_ok=True)
        staging = out_onnx.with_name(out_onnx.name + ".tmp")
        shutil.copyfile(tmp_out, staging)
        os.replace(staging, out_onnx)

    sha = hashlib.sha256(out_onnx.read_bytes()).hexdigest()
    result = {
        "model": model_json.name,
        "onnx": str(out_onnx),
        "sha256": sha,
        "bytes": out_onnx.stat().st_size,
        "seconds": round(time.perf_counter() - t0, 2),
        "outputs": stable_to_tfjs,
        "input": inputs[0],
        "fixes": fixes,
        "verification": report,
    }
    print(RESULT_PREFIX + json.dumps(result, sort_keys=True), flush=True)


def _fmt_vi(vi: Any) -> str:
    from onnx import TensorProto

    tt = vi.type.tensor_type
    dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in tt.shape.dim]
    return f"{TensorProto.DataType.Name(tt.elem_type).lower()}{dims}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_json", type=Path, help="TFJS graph model.json")
    ap.add_argument("out_onnx", type=Path, help="output .onnx path")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seed", type=int, default=0, help="seed of the verification input")
    args = ap.parse_args(argv)
    try:
        convert(args.model_json, args.out_onnx, args.opset, seed=args.seed)
    except (ConversionError, OSError, ValueError) as exc:
        print(f"[tfjs_convert] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
