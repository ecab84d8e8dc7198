// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-parallel="min-work=0 min-units=0" -verify-diagnostics | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-parallel -verify-diagnostics | FileCheck %s --check-prefix=DEF

// A 1-D loop: the entry function takes the context first, the body moves to
// @main_parallel, which runs one chunk of units; the memref travels as its
// descriptor, the scalar as is, the constants are cloned.
// CHECK-LABEL: module attributes {qcc.exec_context}
// CHECK-LABEL: func.func private @main_parallel
// CHECK-SAME: (%[[DATA:.+]]: !llvm.ptr, %[[CHUNK:.+]]: i64)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK: %[[CHUNKS_SLOT:.+]] = llvm.getelementptr %[[DATA]][0, 0]
// CHECK: %[[CHUNKS_I64:.+]] = llvm.load %[[CHUNKS_SLOT]] : !llvm.ptr -> i64
// CHECK: %[[CHUNKS:.+]] = arith.index_cast %[[CHUNKS_I64]] : i64 to index
// CHECK: %[[TOTAL:.+]] = arith.constant 32 : index
// CHECK-DAG: %[[X:.+]] = llvm.load %{{.+}} : !llvm.ptr -> f32
// CHECK-DAG: %[[DESC:.+]] = llvm.load %{{.+}} : !llvm.ptr -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[M:.+]] = builtin.unrealized_conversion_cast %[[DESC]] : {{.+}} to memref<64xf32>
// CHECK: %[[C:.+]] = arith.index_cast %[[CHUNK]] : i64 to index
// CHECK: %[[B0:.+]] = arith.muli %[[C]], %[[TOTAL]]
// CHECK: %[[BEGIN:.+]] = arith.divui %[[B0]], %[[CHUNKS]]
// CHECK: %[[END:.+]] = arith.divui %{{.+}}, %[[CHUNKS]]
// CHECK: scf.for %[[U:.+]] = %[[BEGIN]] to %[[END]]
// CHECK:   %[[OFF:.+]] = arith.muli %[[U]], %[[C2]]
// CHECK:   %[[I:.+]] = arith.addi %[[C0]], %[[OFF]]
// CHECK:   memref.store %[[X]], %[[M]][%[[I]]]
// CHECK: return
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[CTX:.+]]: !llvm.ptr, %[[ARG:.+]]: memref<64xf32>, %[[ARGX:.+]]: f32)
// CHECK: %[[STRUCT:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(i64, f32, struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>)>
// CHECK: %[[NT_SLOT:.+]] = llvm.getelementptr %[[CTX]][0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(i32, i32, ptr, ptr)>
// CHECK: %[[NT:.+]] = llvm.load %[[NT_SLOT]] : !llvm.ptr -> i32
// CHECK: %[[N:.+]] = arith.minui
// CHECK: llvm.store %[[ARGX]]
// CHECK: %[[CAST:.+]] = builtin.unrealized_conversion_cast %[[ARG]] : memref<64xf32> to !llvm.struct
// CHECK: llvm.store %[[CAST]]
// CHECK: %[[POOL_SLOT:.+]] = llvm.getelementptr %[[CTX]][0, 2]
// CHECK: %[[POOL:.+]] = llvm.load %[[POOL_SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[PFOR_SLOT:.+]] = llvm.getelementptr %[[CTX]][0, 3]
// CHECK: %[[PFOR:.+]] = llvm.load %[[PFOR_SLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[FN:.+]] = constant @main_parallel : (!llvm.ptr, i64) -> ()
// CHECK: %[[FNPTR:.+]] = builtin.unrealized_conversion_cast %[[FN]]
// CHECK: %[[N64:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK: llvm.call %[[PFOR]](%[[POOL]], %[[N64]], %[[FNPTR]], %[[STRUCT]])
// CHECK-NOT: scf.parallel
func.func @main(%m: memref<64xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c2) {
    memref.store %x, %m[%i] : memref<64xf32>
    scf.reduce
  }
  return
}

// -----

// Dynamic bounds of a 2-D loop: the trip count of the dynamic dimension and
// the bounds travel as i64; units are split into induction variables, the
// last dimension fastest.
// CHECK-LABEL: func.func private @main_parallel
// CHECK: %[[TRIP0_I64:.+]] = llvm.load %{{.+}} : !llvm.ptr -> i64
// CHECK: %[[TRIP0:.+]] = arith.index_cast %[[TRIP0_I64]] : i64 to index
// CHECK: %[[C4:.+]] = arith.constant 4 : index
// CHECK: %[[LB_I64:.+]] = llvm.load %{{.+}} : !llvm.ptr -> i64
// CHECK: %[[LB:.+]] = arith.index_cast %[[LB_I64]] : i64 to index
// CHECK: scf.for %[[U:.+]] =
// CHECK:   %[[J:.+]] = arith.remui %[[U]], %[[C4]]
// CHECK:   %[[REST:.+]] = arith.divui %[[U]], %[[C4]]
// CHECK:   %[[JOFF:.+]] = arith.muli %[[J]]
// CHECK:   %[[JJ:.+]] = arith.addi %{{.+}}, %[[JOFF]]
// CHECK:   %[[IOFF:.+]] = arith.muli %[[REST]]
// CHECK:   %[[I:.+]] = arith.addi %[[LB]], %[[IOFF]]
// CHECK:   memref.store %{{.+}}, %{{.+}}[%[[I]], %[[JJ]]] : memref<?x4xf32>
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.+}}: !llvm.ptr, %[[M:.+]]: memref<?x4xf32>, %[[LB0:.+]]: index, %[[UB0:.+]]: index)
// CHECK: %[[SPAN:.+]] = arith.subi %[[UB0]], %[[LB0]]
// CHECK: llvm.store %{{.+}} : i64, !llvm.ptr
// CHECK: llvm.call
func.func @main(%m: memref<?x4xf32>, %lb: index, %ub: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%lb, %c0) to (%ub, %c4) step (%c1, %c1) {
    memref.store %f, %m[%i, %j] : memref<?x4xf32>
    scf.reduce
  }
  return
}

// -----

// Reductions, loops outside the entry function and nested loops stay
// serial; the outlined function keeps its inner scf.parallel.
// CHECK-LABEL: func.func private @helper
// CHECK: scf.parallel
// CHECK-LABEL: func.func private @main_parallel
// CHECK: scf.for
// CHECK:   scf.parallel
// CHECK-LABEL: func.func @main
// CHECK: scf.parallel {{.+}} -> f32
// CHECK: llvm.call
// CHECK-NOT: scf.parallel
func.func private @helper(%m: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %f, %m[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
func.func @main(%m: memref<8x8xf32>, %r: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %v = memref.load %m[%i, %c0] : memref<8x8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  memref.store %sum, %r[] : memref<f32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %m[%i, %j] : memref<8x8xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// Already marked: the context is the first parameter; nothing is added.
// CHECK-LABEL: module attributes {qcc.exec_context}
// CHECK: func.func @main(%{{.+}}: !llvm.ptr)
module attributes {qcc.exec_context} {
  func.func @main(%ctx: !llvm.ptr) {
    return
  }
}

// -----

// expected-error @+1 {{entry function 'main' not found}}
module {
  func.func @other() {
    return
  }
}

// -----

module {
  // expected-error @+1 {{entry function is used inside the module; its signature cannot take the execution context}}
  func.func @main() {
    return
  }
  func.func @caller() {
    func.call @main() : () -> ()
    return
  }
}

// -----

module attributes {qcc.exec_context} {
  // expected-error @+1 {{module is marked 'qcc.exec_context' but the entry function does not take an !llvm.ptr first}}
  func.func @main(%x: i32) {
    return
  }
}

// -----

module {
  // expected-error @+1 {{entry function must return its results through output buffers}}
  func.func @main() -> i32 {
    %c = arith.constant 0 : i32
    return %c : i32
  }
}

// -----

// Default options: 256 stores are less work than min-work (131072): the loop
// stays serial in the entry function.
// DEF-LABEL: func.func @main(%{{.+}}: !llvm.ptr, %{{.+}}: memref<16x16xf32>)
// DEF-NEXT: arith.constant
// DEF: scf.parallel
// DEF-NOT: llvm.call
// DEF: return
func.func @main(%m: memref<16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c16, %c16) step (%c1, %c1) {
    memref.store %f, %m[%i, %j] : memref<16x16xf32>
    scf.reduce
  }
  return
}

// -----

// Default options: an operation with a vector result counts one per element,
// so 16 rows of a 256-step loop of vector<16xf32> operations (139,296 with
// vector results weighted, above min-work; 16,416 counted one each) are
// shared out, as the matmul kernels' vector loops must be.
// DEF-LABEL: func.func private @main_parallel
// DEF: vector.load
// DEF-LABEL: func.func @main(%{{.+}}: !llvm.ptr, %{{.+}}: memref<16x4096xf32>)
// DEF: llvm.call
// DEF-NOT: scf.parallel
// DEF: return
func.func @main(%m: memref<16x4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c4096 = arith.constant 4096 : index
  %one = arith.constant dense<1.0> : vector<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    scf.for %k = %c0 to %c4096 step %c16 {
      %v = vector.load %m[%i, %k] : memref<16x4096xf32>, vector<16xf32>
      %w = arith.addf %v, %one : vector<16xf32>
      vector.store %w, %m[%i, %k] : memref<16x4096xf32>, vector<16xf32>
    }
    scf.reduce
  }
  return
}

// -----

// Default options: a 1x64x1024 elementwise loop is shared out over its
// leading 1x64 rows (the first prefix with >= min-units = 16 iterations);
// the 1024 columns stay one serial loop inside each unit.
// DEF-LABEL: func.func private @main_parallel
// DEF: %[[TOTAL:.+]] = arith.constant 64 : index
// DEF: scf.for %[[U:.+]] =
// DEF:   %[[R:.+]] = arith.remui %[[U]], %{{.+}}
// DEF:   scf.parallel (%[[K:.+]]) = (%{{.+}}) to (%{{.+}}) step
// DEF:     memref.load %{{.+}}[%{{.+}}, %{{.+}}, %[[K]]] : memref<1x64x1024xf32>
// DEF:     arith.addf
// DEF:     memref.store
// DEF-LABEL: func.func @main(%{{.+}}: !llvm.ptr, %{{.+}}: memref<1x64x1024xf32>)
// DEF: llvm.call
// DEF-NOT: scf.parallel
// DEF: return
func.func @main(%m: memref<1x64x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%b, %i, %j) = (%c0, %c0, %c0) to (%c1, %c64, %c1024) step (%c1, %c1, %c1) {
    %v = memref.load %m[%b, %i, %j] : memref<1x64x1024xf32>
    %w = arith.addf %v, %f : f32
    memref.store %w, %m[%b, %i, %j] : memref<1x64x1024xf32>
    scf.reduce
  }
  return
}

// -----

// Default options: a body that calls out has unknown work; the loop is
// shared out however few its iterations.
// DEF-LABEL: func.func private @main_parallel
// DEF: func.call @kernel
// DEF-LABEL: func.func @main(%{{.+}}: !llvm.ptr, %{{.+}}: memref<4xf32>)
// DEF: llvm.call
// DEF-NOT: scf.parallel
func.func private @kernel(%m: memref<4xf32>, %i: index)
func.func @main(%m: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    func.call @kernel(%m, %i) : (memref<4xf32>, index) -> ()
    scf.reduce
  }
  return
}

// -----

// A loop's own qcc.chunks_per_thread replaces the option's 4 chunks per
// thread.
// DEF-LABEL: func.func @main(%{{.+}}: !llvm.ptr, %{{.+}}: memref<64x4096xf32>, %{{.+}}: f32)
// DEF: %[[NT:.+]] = llvm.load %{{.+}} : !llvm.ptr -> i32
// DEF: %[[PER:.+]] = arith.constant 8 : index
// DEF: %[[SEL:.+]] = arith.select %{{.+}}, %{{.+}}, %[[PER]] : index
// DEF: %[[ALL:.+]] = arith.muli %{{.+}}, %[[SEL]] : index
// DEF: arith.minui %{{.+}}, %[[ALL]] : index
// DEF-NOT: arith.constant 4 : index
// DEF: llvm.call
// DEF-NOT: scf.parallel
func.func @main(%m: memref<64x4096xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c4096 = arith.constant 4096 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %j = %c0 to %c4096 step %c1 {
      memref.store %x, %m[%i, %j] : memref<64x4096xf32>
    }
    scf.reduce
  } {qcc.chunks_per_thread = 8 : i64}
  return
}

// -----

// q.num_threads: in the entry function the context's num_threads (at least
// 1), loaded once at its start; the outlined body gets it through the
// captures struct (as i64). In another function (no context) it is 1.
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: q.num_threads
// CHECK: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: memref.store %{{.+}}, %{{.+}}[%[[ONE]]]
// CHECK-LABEL: func.func private @main_parallel
// CHECK-NOT: q.num_threads
// CHECK: memref.store
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[CTX:.+]]: !llvm.ptr,
// CHECK: %[[SLOT:.+]] = llvm.getelementptr %[[CTX]][0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.struct<(i32, i32, ptr, ptr)>
// CHECK: %[[NT:.+]] = llvm.load %[[SLOT]] : !llvm.ptr -> i32
// CHECK: %[[NTI:.+]] = arith.index_castui %[[NT]] : i32 to index
// CHECK: %[[MAX:.+]] = arith.maxui %[[NTI]], %{{.+}} : index
// CHECK: %[[MAX64:.+]] = arith.index_cast %[[MAX]] : index to i64
// CHECK: llvm.store %[[MAX64]]
// CHECK: llvm.call
// CHECK-NOT: q.num_threads
// Below min-work the loop stays serial and uses the loaded value.
// DEF-LABEL: func.func private @helper
// DEF: arith.constant 1 : index
// DEF-LABEL: func.func @main
// DEF: %[[MAX:.+]] = arith.maxui
// DEF: scf.parallel
// DEF: memref.store %{{.+}}, %{{.+}}[%{{.+}}, %[[MAX]]]
// DEF-NOT: q.num_threads
func.func private @helper(%m: memref<8xf32>) {
  %t = q.num_threads
  %f = arith.constant 1.0 : f32
  memref.store %f, %m[%t] : memref<8xf32>
  return
}
func.func @main(%m: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  %t = q.num_threads
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %f, %m[%i, %t] : memref<8x8xf32>
    scf.reduce
  }
  return
}
