// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-kernels | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-kernels="min-ops=8" | FileCheck %s --check-prefix=MIN
// RUN: qcc-opt %s -split-input-file -qcc-cpu-outline-kernels -convert-func-to-llvm="use-bare-ptr-memref-call-conv=1" -reconcile-unrealized-casts | FileCheck %s --check-prefix=LLVM

// Each top-level nest becomes a function; constants are cloned, buffers are
// passed; an allocation that no other argument shares is noalias, the entry
// function's own arguments are not.
// CHECK-LABEL: func.func private @main_kernel
// CHECK-SAME: (%[[IN:.+]]: memref<64xf32>, %[[BUF:.+]]: memref<64xf32> {llvm.noalias})
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : index
// CHECK: scf.for %[[I:.+]] = %[[C0]] to %[[C64]] step %[[C1]]
// CHECK:   %[[X:.+]] = memref.load %[[IN]][%[[I]]]
// CHECK:   memref.store %[[X]], %[[BUF]][%[[I]]]
// CHECK: return
// CHECK-LABEL: func.func private @main_kernel_0
// CHECK-SAME: (%[[OUT:.+]]: memref<64xf32>, %[[S:.+]]: f32, %[[B:.+]]: memref<64xf32> {llvm.noalias})
// CHECK: scf.for
// CHECK:   memref.load %[[B]]
// CHECK:   arith.mulf %{{.+}}, %[[S]]
// CHECK:   memref.store %{{.+}}, %[[OUT]]
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[ARG_IN:.+]]: memref<64xf32>, %[[MOUT:.+]]: memref<64xf32>, %[[MS:.+]]: f32)
// CHECK: %[[A:.+]] = memref.alloc()
// CHECK-NOT: scf.for
// CHECK: call @main_kernel(%[[ARG_IN]], %[[A]])
// CHECK: call @main_kernel_0(%[[MOUT]], %[[MS]], %[[A]])
// CHECK: memref.dealloc %[[A]]

// Both nests of this case are smaller than 8 operations.
// MIN-NOT: @main_kernel
// MIN-LABEL: func.func @main(%{{.+}}: memref<64xf32>
// MIN: scf.for
// MIN: scf.for
// MIN-NOT: @main_kernel
// MIN: return

// The outlined functions keep internal linkage and stay out of the inliner's
// way once lowered; memrefs are single pointers.
// LLVM-LABEL: llvm.func internal @main_kernel
// LLVM-SAME: (%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr {llvm.noalias})
// LLVM-SAME: passthrough = ["noinline"]
// LLVM-LABEL: llvm.func @main
// LLVM: llvm.call @main_kernel(%{{.+}}, %{{.+}}) : (!llvm.ptr, !llvm.ptr) -> ()
func.func @main(%in: memref<64xf32>, %out: memref<64xf32>, %s: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %buf = memref.alloc() : memref<64xf32>
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %in[%i] : memref<64xf32>
    memref.store %x, %buf[%i] : memref<64xf32>
  }
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %buf[%i] : memref<64xf32>
    %y = arith.mulf %x, %s : f32
    memref.store %y, %out[%i] : memref<64xf32>
  }
  memref.dealloc %buf : memref<64xf32>
  return
}

// -----

// Views are cloned; the allocation they share is passed once. A nest with a
// call gets no noalias. A loop result comes back as the call's result.
// CHECK-LABEL: func.func private @main_kernel
// CHECK-SAME: (%[[BUF:.+]]: memref<2x64xf32> {llvm.noalias}) -> f32
// CHECK-DAG: %[[ROW0:.+]] = memref.subview %[[BUF]][0, 0] [1, 64] [1, 1]
// CHECK-DAG: %[[ROW1:.+]] = memref.subview %[[BUF]][1, 0] [1, 64] [1, 1]
// CHECK: %[[SUM:.+]] = scf.for {{.+}} iter_args
// CHECK: return %[[SUM]] : f32
// CHECK-LABEL: func.func private @main_kernel_0
// CHECK-SAME: (%{{.+}}: memref<2x64xf32>, %{{.+}}: f32)
// CHECK-NOT: llvm.noalias
// CHECK: call @sink
// CHECK-LABEL: func.func @main
// CHECK: %[[A:.+]] = memref.alloc()
// CHECK: %[[R:.+]] = call @main_kernel(%[[A]]) : (memref<2x64xf32>) -> f32
// CHECK: call @main_kernel_0(%[[A]], %[[R]])
func.func private @sink(f32)
func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %buf = memref.alloc() : memref<2x64xf32>
  %row0 = memref.subview %buf[0, 0] [1, 64] [1, 1] : memref<2x64xf32> to memref<64xf32, strided<[1]>>
  %row1 = memref.subview %buf[1, 0] [1, 64] [1, 1] : memref<2x64xf32> to memref<64xf32, strided<[1], offset: 64>>
  %sum = scf.for %i = %c0 to %c64 step %c1 iter_args(%acc = %zero) -> f32 {
    %x = memref.load %row0[%i] : memref<64xf32, strided<[1]>>
    memref.store %x, %row1[%i] : memref<64xf32, strided<[1], offset: 64>>
    %next = arith.addf %acc, %x : f32
    scf.yield %next : f32
  }
  scf.for %i = %c0 to %c64 step %c1 {
    %x = memref.load %row0[%i] : memref<64xf32, strided<[1]>>
    %y = arith.addf %x, %sum : f32
    func.call @sink(%y) : (f32) -> ()
  }
  memref.dealloc %buf : memref<2x64xf32>
  return
}

// -----

// A nest that uses a memref of dynamic size stays in place; a nest that
// yields a memref too.
// CHECK-LABEL: func.func @main
// CHECK-NOT: call
// CHECK: scf.for
// CHECK: scf.if
// CHECK-NOT: call
func.func @main(%in: memref<?xf32>, %n: index, %cond: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    memref.store %cst, %in[%i] : memref<?xf32>
  }
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  %m = scf.if %cond -> memref<4xf32> {
    scf.yield %a : memref<4xf32>
  } else {
    scf.yield %b : memref<4xf32>
  }
  memref.store %cst, %m[%c0] : memref<4xf32>
  return
}
