#include "core/cnn/state_dict_unpickler.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/common/status_macros.h"

namespace textclf::cnn {
namespace {

// Bounds that keep a hostile pickle from exhausting the stack or the memory. torch.save writes a
// state dict a few containers deep and, for the largest models, tens of thousands of values.
constexpr int kMaxNesting = 64;
constexpr size_t kMaxValues = size_t{1} << 20;  // stack pushes, marks and memo entries

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Global {
  std::string module, name;
  std::string full() const { return module + "." + name; }
};
struct Storage {
  std::string type, key, location;
  int64_t numel = 0;
};
using Items = std::vector<ValuePtr>;
struct Tuple { Items items; };
struct List {
  static constexpr char kName[] = "list";
  Items items;
};
struct Dict {
  static constexpr char kName[] = "dict";
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};

struct Value {
  std::variant<std::monostate, bool, int64_t, double, std::string, Global, Storage, Tuple, List, Dict, PickledTensor>
      v;
  int depth = 0;           // levels of values nested inside this one (0: it holds none)
  bool contained = false;  // put inside a tuple, list or dict: no longer changed
};

template <typename T>
ValuePtr Make(T x) {
  auto p = std::make_shared<Value>();
  p->v = std::move(x);
  return p;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("data.pkl is not a state dict this reader knows: ", std::string(what)));
}

absl::StatusOr<int64_t> AsInt(const ValuePtr& v, std::string_view what) {
  if (auto* i = std::get_if<int64_t>(&v->v)) return *i;
  if (auto* b = std::get_if<bool>(&v->v)) return *b ? 1 : 0;
  return Bad(absl::StrCat(std::string(what), " is not an integer"));
}

absl::StatusOr<std::vector<int64_t>> AsInts(const ValuePtr& v, std::string_view what) {
  auto* t = std::get_if<Tuple>(&v->v);
  if (t == nullptr) return Bad(absl::StrCat(std::string(what), " is not a tuple"));
  std::vector<int64_t> out;
  for (const ValuePtr& item : t->items) {
    ASSIGN_OR_RETURN(int64_t x, AsInt(item, what));
    out.push_back(x);
  }
  return out;
}

class Unpickler {
 public:
  explicit Unpickler(std::string_view data) : data_(data) {}

  absl::StatusOr<ValuePtr> Run() {
    while (pos_ < data_.size()) {
      const uint8_t op = static_cast<uint8_t>(data_[pos_++]);
      if (op == '.') {
        if (stack_.size() != 1) return Bad("the pickle ends with a malformed stack");
        return stack_.back();
      }
      RETURN_IF_ERROR(Step(op));
    }
    return Bad("the pickle has no STOP opcode (truncated?)");
  }

 private:
  template <typename T>
  absl::StatusOr<T> Read() {
    if (data_.size() - pos_ < sizeof(T)) return Bad("truncated");
    T x;
    std::memcpy(&x, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return x;
  }
  absl::StatusOr<std::string> ReadBytes(uint64_t n) {
    if (data_.size() - pos_ < n) return Bad("truncated");
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  absl::StatusOr<std::string> ReadLine() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) return Bad("truncated");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  absl::StatusOr<ValuePtr> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) return Bad("stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  absl::StatusOr<Items> PopToMark() {
    if (marks_.empty()) return Bad("no MARK");
    if (marks_.back() > stack_.size()) return Bad("stack underflow");
    Items items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  // A length-prefixed string or bytes object.
  template <typename Length>
  absl::Status PushString() {
    ASSIGN_OR_RETURN(Length n, Read<Length>());
    ASSIGN_OR_RETURN(std::string s, ReadBytes(n));
    return Push(Make(std::move(s)));
  }
  // Every push, mark and memo entry counts: recalling one memo entry a million times costs two
  // bytes of pickle each.
  absl::Status Count() {
    if (++values_ > kMaxValues) return Bad(absl::StrCat("it holds more than ", kMaxValues, " values"));
    return absl::OkStatus();
  }
  absl::Status Push(ValuePtr v) {
    RETURN_IF_ERROR(Count());
    stack_.push_back(std::move(v));
    return absl::OkStatus();
  }
  absl::Status Mark() {
    RETURN_IF_ERROR(Count());
    marks_.push_back(stack_.size());
    return absl::OkStatus();
  }
  absl::Status Memo(uint64_t index) {
    if (stack_.empty()) return Bad("memoising an empty stack");
    RETURN_IF_ERROR(Count());
    memo_[index] = stack_.back();
    return absl::OkStatus();
  }
  // Puts `items` inside `parent`, one nesting level above the deepest of them. Together with
  // Mutable this keeps every container's depth known and bounded (its values are destroyed
  // recursively), and no container can come to hold itself through the memo.
  static absl::Status Adopt(Value& parent, const Items& items) {
    for (const ValuePtr& item : items) {
      if (item.get() == &parent) return Bad("a list or dict that holds itself");
      if (item->depth >= kMaxNesting) return Bad(absl::StrCat("containers nested more than ", kMaxNesting, " deep"));
      parent.depth = std::max(parent.depth, item->depth + 1);
    }
    for (const ValuePtr& item : items) item->contained = true;
    return absl::OkStatus();
  }
  // A new tuple or list of `items`.
  template <typename Container>
  absl::Status PushContainer(Items items) {
    ValuePtr v = Make(Container{});
    RETURN_IF_ERROR(Adopt(*v, items));
    std::get<Container>(v->v).items = std::move(items);
    return Push(std::move(v));
  }
  // The list or dict on top of the stack, to be filled. torch.save fills each one before it puts
  // it inside another, so one already inside another is refused: changing it then could nest
  // it deeper than its container knows, or inside itself.
  template <typename Container>
  absl::StatusOr<Value*> Mutable(std::string_view op) {
    if (stack_.empty()) return Bad(absl::StrCat(std::string(op), " without a ", Container::kName));
    Value* target = stack_.back().get();
    if (std::get_if<Container>(&target->v) == nullptr) {
      return Bad(absl::StrCat(std::string(op), " on something that is not a ", Container::kName));
    }
    if (target->contained) return Bad(absl::StrCat(std::string(op), " on a ", Container::kName, " inside another value"));
    return target;
  }
  absl::Status Recall(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Bad(absl::StrCat("memo ", index, " is not set"));
    return Push(it->second);
  }
  // TUPLE1/2/3 take the top n values, which must all lie above the innermost MARK.
  absl::Status TupleOf(size_t n) {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + n) return Bad("stack underflow");
    Items items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return PushContainer<Tuple>(std::move(items));
  }
  absl::Status SetItems(Items items) {
    if (items.size() % 2 != 0) return Bad("SETITEMS with an odd number of values");
    ASSIGN_OR_RETURN(Value * target, Mutable<Dict>("SETITEMS"));
    RETURN_IF_ERROR(Adopt(*target, items));
    auto& d = std::get<Dict>(target->v);
    for (size_t i = 0; i < items.size(); i += 2) d.items.emplace_back(items[i], items[i + 1]);
    return absl::OkStatus();
  }
  absl::Status Append(Items items) {
    ASSIGN_OR_RETURN(Value * target, Mutable<List>("APPEND"));
    RETURN_IF_ERROR(Adopt(*target, items));
    auto& l = std::get<List>(target->v);
    l.items.insert(l.items.end(), items.begin(), items.end());
    return absl::OkStatus();
  }

  absl::StatusOr<ValuePtr> Call(const Global& g, const Tuple& args) {
    const std::string f = g.full();
    if (f == "collections.OrderedDict" || f == "builtins.dict") return Make(Dict{});
    if (f == "torch._utils._rebuild_tensor_v2" || f == "torch._utils._rebuild_tensor") {
      if (args.items.size() < 4) return Bad(absl::StrCat(f, " with ", args.items.size(), " arguments"));
      auto* s = std::get_if<Storage>(&args.items[0]->v);
      if (s == nullptr) return Bad("a tensor whose storage is not a persistent storage id");
      PickledTensor t;
      t.storage_type = s->type;
      t.storage_key = s->key;
      t.location = s->location;
      t.storage_numel = s->numel;
      ASSIGN_OR_RETURN(t.storage_offset, AsInt(args.items[1], "a tensor's storage offset"));
      ASSIGN_OR_RETURN(t.shape, AsInts(args.items[2], "a tensor's size"));
      ASSIGN_OR_RETURN(t.stride, AsInts(args.items[3], "a tensor's stride"));
      if (t.shape.size() != t.stride.size()) return Bad("a tensor's size and stride differ in length");
      return Make(std::move(t));
    }
    if (f == "torch._utils._rebuild_parameter" && !args.items.empty()) return args.items[0];
    return Bad(absl::StrCat("it calls ", f, ", which a plain state dict of tensors does not"));
  }

  absl::Status StackGlobal() {
    ASSIGN_OR_RETURN(ValuePtr name, Pop());
    ASSIGN_OR_RETURN(ValuePtr module, Pop());
    auto* n = std::get_if<std::string>(&name->v);
    auto* m = std::get_if<std::string>(&module->v);
    if (n == nullptr || m == nullptr) return Bad("STACK_GLOBAL of non-strings");
    return Push(Make(Global{*m, *n}));
  }
  // LONG1: little-endian two's complement of n bytes.
  absl::Status Long1() {
    ASSIGN_OR_RETURN(uint8_t n, Read<uint8_t>());
    if (n > 8) return Bad("an integer wider than 64 bits");
    ASSIGN_OR_RETURN(std::string bytes, ReadBytes(n));
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; --i) x = (x << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(bytes[n - 1]) & 0x80)) x |= ~uint64_t{0} << (8 * n);
    return Push(Make(static_cast<int64_t>(x)));
  }
  // BINFLOAT: big-endian.
  absl::Status BinFloat() {
    ASSIGN_OR_RETURN(std::string bytes, ReadBytes(8));
    uint64_t bits = 0;
    for (char c : bytes) bits = (bits << 8) | static_cast<uint8_t>(c);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return Push(Make(d));
  }
  absl::Status Reduce() {
    ASSIGN_OR_RETURN(ValuePtr args, Pop());
    ASSIGN_OR_RETURN(ValuePtr callable, Pop());
    auto* g = std::get_if<Global>(&callable->v);
    auto* t = std::get_if<Tuple>(&args->v);
    if (g == nullptr || t == nullptr) return Bad("REDUCE of something that is not a global with arguments");
    ASSIGN_OR_RETURN(ValuePtr result, Call(*g, *t));
    return Push(std::move(result));
  }
  // BINPERSID: torch.save's reference to a storage in data/.
  absl::Status PersistentId() {
    ASSIGN_OR_RETURN(ValuePtr pid, Pop());
    auto* t = std::get_if<Tuple>(&pid->v);
    if (t == nullptr || t->items.size() != 5) return Bad("a persistent id that is not ('storage', type, key, location, numel)");
    auto* tag = std::get_if<std::string>(&t->items[0]->v);
    auto* type = std::get_if<Global>(&t->items[1]->v);
    auto* key = std::get_if<std::string>(&t->items[2]->v);
    auto* location = std::get_if<std::string>(&t->items[3]->v);
    if (tag == nullptr || *tag != "storage" || type == nullptr || key == nullptr || location == nullptr) {
      return Bad("a persistent id that is not ('storage', type, key, location, numel)");
    }
    Storage s{type->name, *key, *location, 0};
    ASSIGN_OR_RETURN(s.numel, AsInt(t->items[4], "a storage size"));
    return Push(Make(std::move(s)));
  }

  absl::Status Step(uint8_t op) {
    switch (op) {
      case 0x80: return Read<uint8_t>().status();  // PROTO
      case 0x95: return Read<uint64_t>().status();  // FRAME
      case '(': return Mark();
      case 'c': {  // GLOBAL
        ASSIGN_OR_RETURN(std::string module, ReadLine());
        ASSIGN_OR_RETURN(std::string name, ReadLine());
        return Push(Make(Global{module, name}));
      }
      case 0x93: return StackGlobal();
      case 'q': { ASSIGN_OR_RETURN(uint8_t i, Read<uint8_t>()); return Memo(i); }
      case 'r': { ASSIGN_OR_RETURN(uint32_t i, Read<uint32_t>()); return Memo(i); }
      case 0x94: return Memo(memo_.size());  // MEMOIZE
      case 'h': { ASSIGN_OR_RETURN(uint8_t i, Read<uint8_t>()); return Recall(i); }
      case 'j': { ASSIGN_OR_RETURN(uint32_t i, Read<uint32_t>()); return Recall(i); }
      case ')': return Push(Make(Tuple{}));
      case 't': { ASSIGN_OR_RETURN(Items items, PopToMark()); return PushContainer<Tuple>(std::move(items)); }
      case 0x85: return TupleOf(1);
      case 0x86: return TupleOf(2);
      case 0x87: return TupleOf(3);
      case ']': return Push(Make(List{}));
      case 'l': { ASSIGN_OR_RETURN(Items items, PopToMark()); return PushContainer<List>(std::move(items)); }
      case 'a': { ASSIGN_OR_RETURN(ValuePtr v, Pop()); return Append({v}); }
      case 'e': { ASSIGN_OR_RETURN(Items items, PopToMark()); return Append(std::move(items)); }
      case '}': return Push(Make(Dict{}));
      case 's': {
        ASSIGN_OR_RETURN(ValuePtr value, Pop());
        ASSIGN_OR_RETURN(ValuePtr key, Pop());
        return SetItems({key, value});
      }
      case 'u': { ASSIGN_OR_RETURN(Items items, PopToMark()); return SetItems(std::move(items)); }
      case 'J': { ASSIGN_OR_RETURN(int32_t x, Read<int32_t>()); return Push(Make(int64_t{x})); }
      case 'K': { ASSIGN_OR_RETURN(uint8_t x, Read<uint8_t>()); return Push(Make(int64_t{x})); }
      case 'M': { ASSIGN_OR_RETURN(uint16_t x, Read<uint16_t>()); return Push(Make(int64_t{x})); }
      case 0x8a: return Long1();
      case 'G': return BinFloat();
      case 0x88: return Push(Make(true));
      case 0x89: return Push(Make(false));
      case 'N': return Push(Make(std::monostate{}));
      case 'X': return PushString<uint32_t>();
      case 0x8c: return PushString<uint8_t>();
      case 0x8d: return PushString<uint64_t>();
      case 'C': return PushString<uint8_t>();
      case 'B': return PushString<uint32_t>();
      case 'R': return Reduce();
      case 'b':  // BUILD: the OrderedDict's attributes (torch's _metadata); not needed
        return Pop().status();
      case 'Q': return PersistentId();
      default:
        return Bad(absl::StrCat("pickle opcode 0x", absl::Hex(op), " at byte ", pos_ - 1));
    }
  }

  std::string_view data_;
  size_t pos_ = 0;
  Items stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, ValuePtr> memo_;
  size_t values_ = 0;
};

}  // namespace

absl::StatusOr<std::vector<std::pair<std::string, PickledTensor>>> UnpickleStateDict(std::string_view pickle) {
  ASSIGN_OR_RETURN(ValuePtr root, Unpickler(pickle).Run());
  auto* dict = std::get_if<Dict>(&root->v);
  if (dict == nullptr) return Bad("the top-level object is not a dict (save model.state_dict(), not the model)");
  // Training checkpoints often wrap the state dict: {"state_dict": ..., "epoch": ...}.
  for (const auto& [key, value] : dict->items) {
    auto* name = std::get_if<std::string>(&key->v);
    auto* inner = std::get_if<Dict>(&value->v);
    if (name != nullptr && inner != nullptr && (*name == "state_dict" || *name == "model")) {
      dict = inner;
      break;
    }
  }
  std::vector<std::pair<std::string, PickledTensor>> out;
  for (const auto& [key, value] : dict->items) {
    auto* name = std::get_if<std::string>(&key->v);
    if (name == nullptr) return Bad("a key that is not a string");
    auto* tensor = std::get_if<PickledTensor>(&value->v);
    if (tensor == nullptr) return Bad(absl::StrCat("entry ", *name, " is not a tensor"));
    out.emplace_back(*name, *tensor);
  }
  return out;
}

}  // namespace textclf::cnn
