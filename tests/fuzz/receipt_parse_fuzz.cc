// libFuzzer target: consent receipts as a node reads them, in protobuf from
// a Peer call's metadata and in JSON from a file (`casectl consent verify`).
// Every input must give a receipt or a clean error; an accepted one converts
// back to the same canonical bytes, and no signature but the issuer's makes
// it valid.
#include <google/protobuf/util/json_util.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "casenode/v1/types.pb.h"
#include "node/consent/consent_book.h"
#include "node/consent/receipt.h"

namespace {

void Check(const casenode::v1::ConsentReceipt& proto) {
  using namespace casenode::consent;
  auto receipt = FromProto(proto);
  if (!receipt.ok()) return;
  const bool valid = Validate(*receipt).ok();
  (void)CheckRecordable(*receipt);
  const std::string canonical = CanonicalBytes(*receipt);
  auto again = FromProto(ToProto(*receipt));
  if (!again.ok() || CanonicalBytes(*again) != canonical) std::abort();
  const casenode::keys::PublicKey never_signed{};
  if (valid && Verify(*receipt, never_signed, casenode::SystemTime{}) == casenode::policy::ConsentStatus::kValid) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  casenode::v1::ConsentReceipt proto;
  if (proto.ParseFromString(bytes)) Check(proto);
  casenode::v1::ConsentReceipt json;
  if (google::protobuf::util::JsonStringToMessage(bytes, &json).ok()) Check(json);
  return 0;
}
