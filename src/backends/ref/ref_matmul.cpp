// Reference matmul: [..., M, K] x [..., K, N] (either side optionally transposed), leading
// batch dimensions broadcast. Products are accumulated in double and rounded once.
#include "ref_kernels.h"
#include "tessera/ir/graph.h"

namespace tessera::ref {
namespace {

Shape batch_dims(const Shape& s) {
  return Shape(std::span<const int64_t>(s.begin(), s.rank() - 2));
}

}  // namespace

void matmul_kernel(const KernelArgs& args) {
  std::vector<Tensor> in = contiguous_inputs(args);
  const Tensor& a = in[0];
  const Tensor& b = in[1];
  bool ta = args.node.attrs.get_int_or("transpose_a", 0) != 0;
  bool tb = args.node.attrs.get_int_or("transpose_b", 0) != 0;
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  // Stored matrix dims: a is rows_a x cols_a, b is rows_b x cols_b.
  int64_t rows_a = sa[sa.rank() - 2], cols_a = sa[sa.rank() - 1];
  int64_t rows_b = sb[sb.rank() - 2], cols_b = sb[sb.rank() - 1];
  int64_t m = ta ? cols_a : rows_a, k = ta ? rows_a : cols_a;
  int64_t n = tb ? rows_b : cols_b;

  with_output(args, [&](Tensor& out) {
    Shape out_batch = batch_dims(out.shape());
    BroadcastIndexer batch_a(batch_dims(sa), out_batch), batch_b(batch_dims(sb), out_batch);
    int64_t batches = out_batch.numel();
    for (int64_t bi = 0; bi < batches; ++bi) {
      int64_t base_a = batch_a(bi) * rows_a * cols_a;
      int64_t base_b = batch_b(bi) * rows_b * cols_b;
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;
          for (int64_t p = 0; p < k; ++p) {
            int64_t ia = base_a + (ta ? p * cols_a + i : i * cols_a + p);
            int64_t ib = base_b + (tb ? j * cols_b + p : p * cols_b + j);
            acc += get_f64(a, ia) * get_f64(b, ib);
          }
          set_f64(out, (bi * m + i) * n + j, acc);
        }
      }
    }
  });
}

}  // namespace tessera::ref
