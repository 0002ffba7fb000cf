// STUB (being written): decompositions of composite ops.
#include "op_rules.h"
namespace tessera::detail {
DecomposeFn decomposition_rule(OpKind) { return nullptr; }
}  // namespace tessera::detail
