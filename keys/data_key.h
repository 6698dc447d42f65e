// Data keys (DEKs) and the references that name them: the 32-byte keys
// every record is sealed under, one per subject, case, or the node. The key
// store (store/key_store.h) persists them, wrapped; this header is only the
// in-memory value types, so code that seals records need not see RocksDB.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace casenode::keys {

// Which data key a record is sealed under. Persisted: values never change.
// kNode (id all zeros) seals node-level records that concern no single subject,
// such as policy decisions.
enum class DataKeyKind : uint8_t { kUnspecified = 0, kSubject = 1, kCase = 2, kNode = 3 };

struct DataKeyRef {
  DataKeyKind kind = DataKeyKind::kUnspecified;
  std::array<uint8_t, 32> id{};  // subject handle (see SubjectHandle) or case id
  bool operator==(const DataKeyRef&) const = default;
};

struct DataKeyRefHash {
  size_t operator()(const DataKeyRef& r) const;
};

// A data key (DEK): 32 bytes that wipe themselves (sodium_memzero) when
// destroyed or moved from. Move-only, no operator<<, compared in constant time.
// Held inline rather than on sodium_malloc memory: one is made for every record
// read and write, and a guarded allocation costs several system calls; the
// long-lived copies are the key store's cache, which is locked memory.
class DataKey {
 public:
  static constexpr size_t kSize = 32;
  DataKey() = default;  // all zero
  DataKey(DataKey&& other) noexcept;
  DataKey& operator=(DataKey&& other) noexcept;
  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;
  ~DataKey();

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return kSize; }
  std::span<const uint8_t> span() const { return bytes_; }
  // Constant-time equality.
  bool Equals(const DataKey& other) const;

 private:
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace casenode::keys
