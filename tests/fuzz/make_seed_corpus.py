#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz (corpus/<target>/): small valid inputs of each format,
made by hand with the standard library only (no torch, no protobuf), so that the fuzzers start
from files the parsers accept and mutate from there. Run it from anywhere; it rewrites the
folders it owns. The files are committed; rerun it only to change them.
"""
import gzip
import io
import json
import pathlib
import struct
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


# --- data.pkl: protocol 2 opcodes as torch.save writes a state dict (see pickletools.dis of a
# real checkpoint): OrderedDict via REDUCE, SETITEMS of _rebuild_tensor_v2 calls with persistent
# storage ids, memo puts and gets, and the _metadata BUILD at the end.
class Pickle:
    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def op(self, b):
        self.out += b
        return self

    def put(self):
        self.out += b"q" + bytes([self.memo])
        self.memo += 1
        return self.memo - 1

    def get(self, i):
        return self.op(b"h" + bytes([i]))

    def str(self, s):
        data = s.encode()
        return self.op(b"X" + struct.pack("<I", len(data)) + data)

    def int(self, v):
        if 0 <= v < 256:
            return self.op(b"K" + bytes([v]))
        if 0 <= v < 65536:
            return self.op(b"M" + struct.pack("<H", v))
        if -2**31 <= v < 2**31:
            return self.op(b"J" + struct.pack("<i", v))
        return self.op(b"\x8a\x08" + struct.pack("<q", v))  # LONG1

    def glob(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def bytes(self):
        return bytes(self.out + b".")


def state_dict_pickle(tensors, wrap=False):
    """tensors: (name, storage type, key, location, numel, offset, shape, stride)."""
    p = Pickle()
    if wrap:  # {"state_dict": OrderedDict, "epoch": 3}, as training checkpoints often are
        p.op(b"}")
        p.put()
        p.op(b"(").str("state_dict")
    p.glob("collections", "OrderedDict")
    od = p.put()
    p.op(b")R")
    p.put()
    p.op(b"(")
    rebuild = storage_tag = None
    for name, stype, key, location, numel, offset, shape, stride in tensors:
        p.str(name)
        p.put()
        if rebuild is None:
            p.glob("torch._utils", "_rebuild_tensor_v2")
            rebuild = p.put()
        else:
            p.get(rebuild)
        p.op(b"((")
        if storage_tag is None:
            p.str("storage")
            storage_tag = p.put()
        else:
            p.get(storage_tag)
        p.glob("torch", stype)
        p.put()
        p.str(key).str(location).int(numel).op(b"t")
        p.put()
        p.op(b"Q").int(offset)
        for dims in (shape, stride):
            if len(dims) == 1:
                p.int(dims[0]).op(b"\x85")
            else:
                p.op(b"(")
                for d in dims:
                    p.int(d)
                p.op(b"t")
            p.put()
        p.op(b"\x89").get(od).op(b")R")
        p.put()
        p.op(b"t")
        p.put()
        p.op(b"R")
        p.put()
    p.op(b"u")
    # _metadata: {"": {"version": 1}}, set as the OrderedDict's state.
    p.op(b"}").str("_metadata").get(od).op(b")R")
    p.put()
    p.op(b"(").str("").op(b"}").str("version").int(1).op(b"s").op(b"u").op(b"s").op(b"b")
    if wrap:
        p.str("epoch").int(3).op(b"u")
    return p.bytes()


def floats(values):
    return struct.pack("<%df" % len(values), *values)


def torch_zip(pickle, storages, prefix="archive/", deflate=False):
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as z:
        # A fixed time, so that rerunning this script changes no file it did not mean to.
        def add(name, data):
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=method)
        add(prefix + "data.pkl", pickle)
        for key, data in storages:
            add(prefix + "data/" + key, data)
        add(prefix + "version", "3\n")
    return buffer.getvalue()


CONV = ("conv.weight", "FloatStorage", "0", "cpu", 12, 0, [2, 1, 2, 3], [6, 6, 3, 1])
BIAS = ("conv.bias", "FloatStorage", "1", "cpu", 2, 0, [2], [1])
TRANSPOSED = ("fc.weight", "FloatStorage", "2", "cuda:0", 6, 0, [3, 2], [1, 3])
COUNT = ("bn.num_batches_tracked", "LongStorage", "3", "cuda:0", 1, 0, [], [])
HALF = ("fc.bias", "HalfStorage", "4", "cpu", 4, 1, [3], [1])
STORAGES = [("0", floats(range(12))), ("1", floats([0.5, -0.5])), ("2", floats([1, 2, 3, 4, 5, 6])),
            ("3", struct.pack("<q", 42)), ("4", struct.pack("<4H", 0x3C00, 0xC000, 0x3555, 0x7BFF))]

small = state_dict_pickle([CONV, BIAS])
full = state_dict_pickle([CONV, BIAS, TRANSPOSED, COUNT, HALF])
wrapped = state_dict_pickle([TRANSPOSED, COUNT], wrap=True)
write("torch_checkpoint", "conv.pth", torch_zip(small, STORAGES[:2]))
write("torch_checkpoint", "mixed_dtypes.pth", torch_zip(full, STORAGES, prefix="model/"))
write("torch_checkpoint", "wrapped_deflated.pth", torch_zip(wrapped, [STORAGES[2], STORAGES[3]], deflate=True))
# The fuzz target's other form: [odd byte][u16 pickle size][pickle][storage bytes], which it zips
# itself (every data/<key> holding the same storage bytes).
write("torch_checkpoint", "parts_conv", b"\x01" + struct.pack("<H", len(small)) + small + floats(range(12)))
write("torch_checkpoint", "parts_mixed", b"\x01" + struct.pack("<H", len(full)) + full + floats(range(12)))
write("state_dict_unpickler", "small.pkl", small)
write("state_dict_unpickler", "mixed_dtypes.pkl", full)
write("state_dict_unpickler", "wrapped.pkl", wrapped)


# --- the CNN weights file (core/cnn/tensor_archive.h): "TXCNNW01", u32 count, then per tensor
# u16 name length, name, u8 bits, u8 rank, i64 dims, then f32 data or bf16 scales + packed codes.
def archive_tensor(name, dims, bits, values=None, scales=None, codes=b""):
    out = struct.pack("<H", len(name)) + name.encode() + struct.pack("<BB", bits, len(dims))
    out += b"".join(struct.pack("<q", d) for d in dims)
    if bits == 32:
        data = floats(values)
        return out + struct.pack("<Q", len(data)) + data
    out += struct.pack("<I", len(scales)) + b"".join(struct.pack("<H", s) for s in scales)
    return out + struct.pack("<Q", len(codes)) + codes


def archive(tensors):
    return b"TXCNNW01" + struct.pack("<I", len(tensors)) + b"".join(tensors)


write("tensor_archive", "floats.tcw", archive([archive_tensor("fc.bias", [3], 32, values=[0.5, -1, 2]),
                                               archive_tensor("empty", [0, 4], 32, values=[])]))
# 3x2 weights at 4 bits, one bf16 scale per row (0x3E80 = 0.25, 0x3F00 = 0.5, 0x4000 = 2).
write("tensor_archive", "packed.tcw", archive([archive_tensor("fc.weight", [3, 2], 4, scales=[0x3E80, 0x3F00, 0x4000],
                                                              codes=bytes([0x97, 0x21, 0xF7])),
                                               archive_tensor("emb", [2, 2], 2, scales=[0x3F80], codes=bytes([0x46]))]))


# --- safetensors: u64 header length, JSON header, data.
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


write("safetensors", "weights.safetensors", safetensors(
    [("embeddings.weight", "F32", [2, 3], floats([1, -2.5, 0, 3.25, 65504, -0.125])),
     ("bias", "BF16", [3], struct.pack("<3H", 0x3F80, 0xC000, 0x4040)),
     ("position_ids", "I64", [1, 2], struct.pack("<2q", 0, 1))], {"format": "pt"}))
write("safetensors", "half_and_ints.safetensors", safetensors(
    [("h", "F16", [2], struct.pack("<2H", 0x3C00, 0x0001)), ("i", "I32", [1], struct.pack("<i", -7)),
     ("b", "BOOL", [2], b"\x01\x00"), ("u", "U8", [0, 3], b""), ("d", "F64", [], struct.pack("<d", 0.5)),
     ("s", "I16", [1], struct.pack("<h", -3)), ("c", "I8", [1], b"\xff")]))

# --- config.json of an encoder checkpoint.
write("bert_config", "bert_tiny.json", json.dumps({
    "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "hidden_size": 128, "intermediate_size": 512, "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 2, "num_hidden_layers": 2,
    "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30522}, indent=2))
write("bert_config", "minimal.json", '{"hidden_size": 32, "num_attention_heads": 4, "hidden_act": "gelu_new"}')


# --- IDX: magic 00 00 08 rank, big-endian u32 dims, bytes; plain and gzip.
def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


write("idx_reader", "images.idx", idx([3, 2, 3], bytes(range(10, 28))))
write("idx_reader", "labels.idx", idx([4], bytes([1, 0, 7, 9])))
write("idx_reader", "images.idx.gz", gzip.compress(idx([2, 4, 4], bytes(range(32))), mtime=0))

# --- CSV files as the data sets have them.
write("csv_reader", "plain.csv", "label,title,text\n1,Hello,world\n0,Second,row\n")
write("csv_reader", "quoted.csv", 'id,text,label\n0,"says ""hi"",\nthen more",1\r\n1,"",0\r\n2,plain,1\r\n')
write("csv_reader", "bom_blank_lines.csv", "\ufefftext,label\n\nfirst,a\n\n\nsecond,b")

# --- manifest.json as Repository::Publish writes it (protobuf JSON, proto field names).
FILES = [{"path": "dict/0_0.zdict", "size_bytes": "1024", "sha256": "ab" * 32},
         {"path": "weights.tcw", "size_bytes": "12", "sha256": "0f" * 32}]
write("manifest", "zest.json", json.dumps({
    "format_version": 1, "name": "news", "version": "3", "family": "ZEST", "classes": ["sports", "tech"],
    "config": {"zest": {"mode": "MULTICLASS", "level": 19, "lowercase": True, "normalization": "STRING"},
               "batching": {"max_batch_size": 64, "max_queue_delay_us": "500", "preferred_batch_sizes": [8, 32]},
               "instance_groups": [{"count": 2, "kind": "CPU"}]},
    "files": FILES[:1], "created_at": "2024-05-01T12:00:00.123Z",
    "training": {"train_examples": "1000", "seconds": 1.5, "notes": {"data": "agnews"}},
    "zest": {"allowed_characters": "abc", "classes": [{"label": "sports", "dictionaries": [{"file": "dict/0_0.zdict",
                                                                                            "size_bytes": "1024"}]}],
             "temperature": 0.7}}, indent=2))
write("manifest", "cnn.json", json.dumps({
    "format_version": 1, "name": "cifar", "version": "1", "family": "IMAGE_CNN", "classes": ["0", "1"],
    "config": {"image_cnn": {"depth": 20, "channels": 3, "height": 32, "width": 32, "mean": [0.5, 0.5, 0.5],
                             "std": [0.25, 0.25, 0.25]}},
    "files": FILES[1:], "created_at": "2024-05-01T12:00:00Z",
    "cnn": {"weights_file": "weights.tcw", "tensors": [{"name": "fc.weight", "shape": ["2", "64"], "bits": 8,
                                                        "per_channel": True}],
            "temperature": 1, "quantization": {"weight_bits": 8, "activation_bits": 32, "calibration": "PERCENTILE"}}},
    indent=2))


# --- ClassifyRequest in protobuf's wire format (textclf/v1/service.proto).
def varint(v):
    out = b""
    while True:
        byte, v = v & 0x7F, v >> 7
        out += bytes([byte | (0x80 if v else 0)])
        if not v:
            return out


def field(number, wire_type, payload):
    key = varint(number << 3 | wire_type)
    return key + (varint(payload) if wire_type == 0 else varint(len(payload)) + payload)


def tensor(shape, dtype, data):
    return field(1, 2, b"".join(varint(d) for d in shape)) + field(2, 0, dtype) + field(3, 2, data)


write("classify_request", "texts.bin", field(1, 2, b"news") + field(3, 2, "first text".encode()) +
      field(3, 2, "caf\u00e9 \u2014 second".encode()) + field(5, 0, 3) + field(6, 0, 1))
write("classify_request", "image.bin", field(1, 2, b"cifar") + field(2, 0, 2) +
      field(4, 2, tensor([3, 32, 32], 1, bytes(3 * 32 * 32))) + field(7, 0, 1))
write("classify_request", "float_image.bin", field(1, 2, b"mnist") +
      field(4, 2, tensor([2, 2], 2, floats([0, 0.25, 0.5, 1]))))


# --- inference.ModelInferRequest (proto/inference/grpc_predict_v2.proto): texts in contents,
# texts raw (length-prefixed), an FP32 image in contents with all three outputs requested.
def infer_input(name, datatype, shape, contents=b""):
    packed_shape = b"".join(varint(d) for d in shape)
    out = field(1, 2, name) + field(2, 2, datatype) + field(3, 2, packed_shape)
    return out + (field(5, 2, contents) if contents else b"")


def length_prefixed(items):
    return b"".join(struct.pack("<I", len(s)) + s for s in items)


texts = [b"first text", "caf\u00e9 \u2014 second".encode()]
write("model_infer_request", "texts.bin", field(1, 2, b"news") + field(3, 2, b"req-1") +
      field(5, 2, infer_input(b"text", b"BYTES", [2], b"".join(field(8, 2, t) for t in texts))))
write("model_infer_request", "raw_texts.bin", field(1, 2, b"news") + field(2, 2, b"3") +
      field(5, 2, infer_input(b"text", b"BYTES", [2, 1])) + field(7, 2, length_prefixed(texts)))
write("model_infer_request", "image.bin", field(1, 2, b"mnist") +
      field(5, 2, infer_input(b"image", b"FP32", [1, 1, 2, 2], field(6, 2, floats([0, 0.25, 0.5, 1])))) +
      b"".join(field(6, 2, field(1, 2, name)) for name in (b"label", b"probability", b"probabilities")))

# --- the HTTP port's JSON bodies (server/http/oip_json.h): the protocol's infer request with
# texts, nested texts and an image, and a /v1 classify body.
write("oip_json_request", "texts.json", json.dumps({
    "id": "req-1", "parameters": {"note": {"nested": [1, 2]}},
    "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["first text", "caf\u00e9 \u2014 second"]}],
    "outputs": [{"name": "label"}, {"name": "probabilities", "parameters": {"binary_data": False}}]}))
write("oip_json_request", "nested_texts.json", json.dumps({
    "inputs": [{"name": "text", "shape": [2, 1], "datatype": "BYTES", "data": [["one"], ["two"]]}]}))
write("oip_json_request", "image.json", json.dumps({
    "inputs": [{"name": "image", "shape": [1, 1, 2, 2], "datatype": "UINT8", "data": [[[[0, 64], [128, 255]]]]}]}))
write("oip_json_request", "image_fp32.json", json.dumps({
    "inputs": [{"name": "image", "shape": [1, 1, 2, 2], "datatype": "FP32", "data": [0, 0.25, 0.5, 1.0]}]}))
write("oip_json_request", "classify.json", json.dumps({"texts": ["Stocks rally", "You won't believe"],
                                                       "version": 2, "top_k": 2, "all_scores": True}))
