// STUB (being written): gradient rules.
#include "op_rules.h"
namespace tessera::detail {
GradFn gradient_rule(OpKind) { return nullptr; }
}  // namespace tessera::detail
