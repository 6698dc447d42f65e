#include "keys/data_key.h"

#include <sodium.h>

#include <cstring>

namespace casenode::keys {

size_t DataKeyRefHash::operator()(const DataKeyRef& r) const {
  size_t h;
  std::memcpy(&h, r.id.data(), sizeof h);  // ids are uniformly random or hashes
  return h ^ static_cast<size_t>(r.kind);
}

DataKey::DataKey(DataKey&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}

DataKey& DataKey::operator=(DataKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

DataKey::~DataKey() { sodium_memzero(bytes_.data(), bytes_.size()); }

bool DataKey::Equals(const DataKey& other) const {
  return sodium_memcmp(bytes_.data(), other.bytes_.data(), kSize) == 0;
}

}  // namespace casenode::keys
