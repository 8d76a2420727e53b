// Objects as etcd holds them (etcd_keys.h), turned into what the loader
// reads, and the few edits `torii get -o yaml|json` makes to a stored object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/documents.h"
#include "config/loader.h"
#include "sources/etcd_wire.h"

namespace torii::sources {

// Each object key under `prefix` as a NamedText named by its key (so that a
// diagnostic reads `/torii/objects/networking.istio.io/VirtualService/default/web:3: ...`),
// its default namespace the key's. Keys that are not object keys are left out.
std::vector<config::NamedText> named_texts(const std::vector<KeyValue>& kvs, std::string_view prefix);

// metadata.resourceVersion of a YAML object as a number; 0 when absent or not one.
int64_t resource_version_of(std::string_view yaml);

// The object with metadata.resourceVersion set to `revision` (the key's
// mod_revision), as `kubectl get -o yaml` shows it; a resourceVersion written
// in the object is replaced. Block-style metadata only (else unchanged).
std::string with_resource_version(const std::string& yaml, int64_t revision);

// A YAML document as JSON: plain scalars that read as integers, floats,
// booleans or null become those; everything else a string. Null when the
// text does not parse.
nlohmann::json yaml_to_json(std::string_view yaml);

// The text of the document holding line `line` (1-based) of `text`, split
// as the loader splits (config/documents.h), without leading and trailing
// blank lines; `first_line` (1-based) where it starts.
std::string document_at(std::string_view text, int line, int* first_line = nullptr);

// The same for many lines of one text: split once (an apply of 10,000
// objects from one file asks 10,000 times).
class DocumentIndex {
 public:
  explicit DocumentIndex(std::string_view text);
  std::string at(int line, int* first_line = nullptr) const;

 private:
  std::vector<config::DocumentText> documents_;
};

}  // namespace torii::sources
