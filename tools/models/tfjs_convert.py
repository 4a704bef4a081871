#!/usr/bin/env python3
"""Convert a TensorFlow.js *graph model* (model.json + .bin shards) to ONNX.

This script runs inside the throwaway build venv made by
``proctor.models.build_env.ensure_build_env`` (TensorFlow + tf2onnx + onnx +
onnxruntime). It must never be imported by the service at runtime for anything
but its docstring/constants: the module top imports the standard library only,
and every heavy dependency is imported inside the functions that need it.

Usage::

    python proctor/models/tfjs_convert.py MODEL_JSON OUT_ONNX [--opset 17] [--no-verify]

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

   The original TFJS names, in the new order, are stored in the ONNX
   ``metadata_props`` (``tfjs.input``, ``tfjs.outputs``) together with the
   sha256 of the source files and the converter versions.

4. Verifies the saved ONNX file (onnxruntime) against TensorFlow executing the
   same TFJS graph (rebuilt as a plain TF GraphDef from the same JSON/weights;
   TFJS-only ops -- ``_FusedConv2D``/``FusedDepthwiseConv2dNative`` and
   ``Prelu`` -- are expanded into primitive TF ops, which independently
   re-derives their semantics instead of trusting tf2onnx's handlers) on a
   deterministic random input (``numpy.random.default_rng(seed)``, uniform in
   ``[0, 1)``, unknown dims = 1). The max abs diff per output is printed; the
   conversion fails if ``max|onnx - tf| > 1e-3 * max(1, max|tf|)`` for any
   output. If the graph uses something the reference builder cannot express
   (function library, unknown op), verification is skipped with a message.

5. Canonicalizes the graph so the output is byte-deterministic: tf2onnx's
   optimizers iterate over id-hashed sets, so constant de-duplication, node
   order and generated ``__N`` names vary between runs (even with
   PYTHONHASHSEED fixed). Nodes are re-ordered by a structural depth-first walk
   from the outputs, identical initializers merged, and internal names
   rewritten (``t<k>`` tensors, ``<OpType>_<k>`` nodes, ``c<k>`` initializers).
   Graph I/O names are kept. The TFJS names of the I/O live in the metadata.
   (This runs right after step 3, so step 4 verifies the final bytes.)
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
    """The TF reference graph cannot be built; verification is skipped."""


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


def _load_model(model_json: Path) -> tuple[dict[str, Any], list[bytes], str]:
    """Return (model dict, raw weight bytes per group, sha256 of all source files)."""
    raw, zipped = _read_maybe_gzip(model_json)
    model = json.loads(raw)
    topo = model.get("modelTopology", {})
    fmt = model.get("format") or topo.get("format") or "graph-model"
    if fmt != "graph-model" or "keras_version" in topo:
        raise ConversionError(f"{model_json}: not a TFJS graph model (format={fmt!r})")
    digest = hashlib.sha256(model_json.read_bytes())
    groups: list[bytes] = []
    for group in model.get("weightsManifest", []):
        parts = []
        for rel in group["paths"]:
            shard_path = model_json.parent / rel
            if not shard_path.is_file():
                raise ConversionError(f"missing weight shard {shard_path}")
            shard = shard_path.read_bytes()
            digest.update(shard)
            parts.append(gzip.decompress(shard) if zipped else shard)
        groups.append(b"".join(parts))
    return model, groups, digest.hexdigest()


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


def _subgraph_refs(graph: Any, acc: set[str]) -> set[str]:
    """All tensor names a subgraph reads (over-approximates its outer-scope refs)."""
    from onnx import AttributeProto

    for node in graph.node:
        acc.update(n for n in node.input if n)
        for a in node.attribute:
            if a.type == AttributeProto.GRAPH:
                _subgraph_refs(a.g, acc)
            elif a.type == AttributeProto.GRAPHS:
                for sg in a.graphs:
                    _subgraph_refs(sg, acc)
    return acc


def _canonicalize(model_proto: Any) -> None:
    """Make the serialized model independent of tf2onnx's run-to-run choices.

    tf2onnx's optimizers iterate over sets of node objects (id-hashed), so which
    of several identical constants survives de-duplication, the node order and
    the ``__N`` counters in generated names vary from process to process even
    with PYTHONHASHSEED fixed. This pass (1) orders nodes by a depth-first
    post-order walk from output0, output1, ... (inputs in argument order), which
    depends only on the graph's structure; (2) merges initializers with
    identical content; (3) renames every internal tensor / node / initializer to
    a name derived from that order (``t<k>``, ``<OpType>_<k>``, ``c<k>``). Graph
    I/O names are untouched. Nodes that no output depends on are dropped.
    """
    from onnx import AttributeProto, TensorProto

    graph = model_proto.graph
    nodes = list(graph.node)
    producer = {out: i for i, n in enumerate(nodes) for out in n.output if out}
    deps: list[list[str]] = []
    for n in nodes:
        d = [x for x in n.input if x]
        extra: set[str] = set()
        for a in n.attribute:
            if a.type == AttributeProto.GRAPH:
                _subgraph_refs(a.g, extra)
            elif a.type == AttributeProto.GRAPHS:
                for sg in a.graphs:
                    _subgraph_refs(sg, extra)
        d += sorted(x for x in extra if x in producer)
        deps.append(d)

    order: list[int] = []
    state: dict[int, int] = {}  # 1 = on stack, 2 = done
    for out in graph.output:
        if out.name not in producer:
            continue
        stack = [(producer[out.name], 0)]
        while stack:
            idx, pos = stack.pop()
            if pos == 0:
                if state.get(idx) == 2:
                    continue
                state[idx] = 1
            if pos < len(deps[idx]):
                stack.append((idx, pos + 1))
                child = producer.get(deps[idx][pos])
                if child is not None and child not in state:
                    stack.append((child, 0))
            else:
                state[idx] = 2
                order.append(idx)

    init_by_name = {t.name: t for t in graph.initializer}
    keep_names = {i.name for i in graph.input} | {o.name for o in graph.output}
    mapping: dict[str, str] = {}
    content_to_name: dict[bytes, str] = {}
    new_inits: list[Any] = []
    for k, idx in enumerate(order):
        node = nodes[idx]
        for name in node.input:
            if name in init_by_name and name not in mapping and name not in keep_names:
                t = TensorProto()
                t.CopyFrom(init_by_name[name])
                t.name = ""
                key = t.SerializeToString()
                if key not in content_to_name:
                    content_to_name[key] = f"c{len(new_inits)}"
                    t.name = content_to_name[key]
                    new_inits.append(t)
                mapping[name] = content_to_name[key]
        outs = list(node.output)
        for j, name in enumerate(outs):
            if name and name not in keep_names:
                mapping[name] = f"t{k}" if len(outs) == 1 else f"t{k}_{j}"
    # initializers read only inside subgraphs (outer-scope refs), in stored order
    sub_refs: set[str] = set()
    for n in nodes:
        for a in n.attribute:
            if a.type == AttributeProto.GRAPH:
                _subgraph_refs(a.g, sub_refs)
            elif a.type == AttributeProto.GRAPHS:
                for sg in a.graphs:
                    _subgraph_refs(sg, sub_refs)
    for t in graph.initializer:
        if t.name in sub_refs and t.name not in mapping and t.name not in keep_names:
            c = TensorProto()
            c.CopyFrom(t)
            mapping[t.name] = c.name = f"c{len(new_inits)}"
            new_inits.append(c)

    new_nodes = []
    for k, idx in enumerate(order):
        n = type(nodes[idx])()
        n.CopyFrom(nodes[idx])
        n.name = f"{n.op_type}_{k}"
        # tf2onnx sets domain="" explicitly on some nodes and not on others
        # (varies run to run); presence of an empty field changes the bytes.
        for field in ("domain", "doc_string"):
            if not getattr(n, field):
                n.ClearField(field)
        new_nodes.append(n)
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(new_inits)
    kept_vi = [v for v in graph.value_info if v.name in mapping]
    del graph.value_info[:]
    graph.value_info.extend(sorted(kept_vi, key=lambda v: mapping[v.name]))
    _rename_in_graph(graph, mapping)


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
    import numpy as np

    try:
        import onnxruntime as ort
    except ImportError:  # pragma: no cover - build venv ships onnxruntime
        ort = None

    if ort is not None:
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
        elem = inp.type
    else:
        import onnx
        from onnx.reference import ReferenceEvaluator

        m = onnx.load(str(out_onnx))
        vi = m.graph.input[0]
        shape = [max(d, 1) for d in _shape_of(vi)]
        out_names = [o.name for o in m.graph.output]
        declared_shapes = {o.name: list(_shape_of(o)) for o in m.graph.output}
        elem = "tensor(float)"
    rng = np.random.default_rng(seed)
    if "float" in elem:
        x = rng.random(shape, dtype=np.float32)
    else:
        x = rng.integers(0, 256, size=shape).astype(np.int32)
    if ort is not None:
        got = sess.run(out_names, {INPUT_NAME: x})
    else:
        got = ReferenceEvaluator(m).run(out_names, {INPUT_NAME: x})

    try:
        ref = _run_reference(
            model, groups, tfjs_input, [_with_port(stable_to_tfjs[n]) for n in out_names], x
        )
    except _VerifyUnsupported as exc:
        _log(f"verification SKIPPED: TF reference graph not buildable ({exc})")
        return {"verified": False, "reason": str(exc)}

    report: dict[str, Any] = {"verified": True, "seed": seed, "input_shape": shape, "outputs": {}}
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
    return report


# --------------------------------------------------------------------------- #
# Main entry point
# --------------------------------------------------------------------------- #


def convert(
    model_json: Path, out_onnx: Path, opset: int = 17, *, verify: bool = True, seed: int = 0
) -> None:
    """Convert a TFJS graph model to ONNX with stable I/O names (see module doc).

    Raises ConversionError on any failure, including a failed TF-vs-ONNX check.
    The output file is written atomically (temp file + rename).
    """
    model_json = Path(model_json).resolve()
    out_onnx = Path(out_onnx).resolve()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()

    model, groups, source_sha = _load_model(model_json)
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
        _canonicalize(model_proto)
        model_proto.doc_string = f"TFJS graph model {model_json.name} converted by proctor"
        meta = {
            "tfjs.source": model_json.name,
            "tfjs.source_sha256": source_sha,
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

        report: dict[str, Any] = {"verified": False, "reason": "disabled"}
        if verify:
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
    print("TFJS_CONVERT_RESULT " + json.dumps(result, sort_keys=True), flush=True)


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
    ap.add_argument("--no-verify", action="store_true", help="skip the TF-vs-ONNX numerical check")
    ap.add_argument("--seed", type=int, default=0, help="seed of the verification input")
    args = ap.parse_args(argv)
    try:
        convert(
            args.model_json, args.out_onnx, args.opset, verify=not args.no_verify, seed=args.seed
        )
    except (ConversionError, OSError, ValueError) as exc:
        print(f"[tfjs_convert] ERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
