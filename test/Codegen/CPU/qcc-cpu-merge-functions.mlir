// RUN: qcc-opt %s -split-input-file -qcc-cpu-merge-functions | FileCheck %s

// Two copies of one kernel become one; the third differs in a constant and
// stays. Calls and function constants are redirected.
// CHECK-LABEL: func.func private @k(
// CHECK-NOT: func.func private @k_copy
// CHECK-LABEL: func.func private @k_other(
// CHECK-NOT: func.func private @k_copy
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: memref<8xf32>, %[[Y:.+]]: memref<8xf32>)
// CHECK: call @k(%[[X]])
// CHECK: call @k(%[[Y]])
// CHECK: call @k_other(%[[Y]])
// CHECK: constant @k : (memref<8xf32>) -> ()
func.func private @k(%a: memref<8xf32>) attributes {passthrough = ["noinline"]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 2.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %a[%i] : memref<8xf32>
    %w = arith.mulf %v, %cst : f32
    memref.store %w, %a[%i] : memref<8xf32>
  }
  return
}
func.func private @k_copy(%b: memref<8xf32>) attributes {passthrough = ["noinline"]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 2.0 : f32
  scf.for %j = %c0 to %c8 step %c1 {
    %x = memref.load %b[%j] : memref<8xf32>
    %y = arith.mulf %x, %cst : f32
    memref.store %y, %b[%j] : memref<8xf32>
  }
  return
}
func.func private @k_other(%a: memref<8xf32>) attributes {passthrough = ["noinline"]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 3.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %a[%i] : memref<8xf32>
    %w = arith.mulf %v, %cst : f32
    memref.store %w, %a[%i] : memref<8xf32>
  }
  return
}
func.func @main(%x: memref<8xf32>, %y: memref<8xf32>) {
  call @k(%x) : (memref<8xf32>) -> ()
  call @k_copy(%y) : (memref<8xf32>) -> ()
  call @k_other(%y) : (memref<8xf32>) -> ()
  %p = func.constant @k_copy : (memref<8xf32>) -> ()
  return
}

// -----

// Merging the callees makes the callers identical: they merge in a second
// round. Public functions, declarations and functions whose attributes
// differ (here llvm.noalias on the argument) are left alone.
// CHECK-LABEL: func.func private @leaf(
// CHECK-LABEL: func.func private @caller(
// CHECK: call @leaf
// CHECK-NOT: func.func private @caller_copy
// CHECK-LABEL: func.func private @leaf_noalias(
// CHECK-LABEL: func.func @pub(
// CHECK-LABEL: func.func @pub_copy(
// CHECK-LABEL: func.func private @decl(
// CHECK-LABEL: func.func private @decl_copy(
// CHECK-LABEL: func.func @main
// CHECK: call @caller(
// CHECK: call @caller(
// CHECK: call @leaf_noalias(
func.func private @leaf(%a: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 1.0 : f32
  memref.store %cst, %a[%c0] : memref<4xf32>
  return
}
func.func private @leaf_copy(%a: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 1.0 : f32
  memref.store %cst, %a[%c0] : memref<4xf32>
  return
}
func.func private @caller(%a: memref<4xf32>) {
  call @leaf(%a) : (memref<4xf32>) -> ()
  return
}
func.func private @caller_copy(%a: memref<4xf32>) {
  call @leaf_copy(%a) : (memref<4xf32>) -> ()
  return
}
func.func private @leaf_noalias(%a: memref<4xf32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %cst = arith.constant 1.0 : f32
  memref.store %cst, %a[%c0] : memref<4xf32>
  return
}
func.func @pub(%a: memref<4xf32>) {
  return
}
func.func @pub_copy(%a: memref<4xf32>) {
  return
}
func.func private @decl(memref<4xf32>)
func.func private @decl_copy(memref<4xf32>)
func.func @main(%x: memref<4xf32>, %y: memref<4xf32>) {
  call @caller(%x) : (memref<4xf32>) -> ()
  call @caller_copy(%y) : (memref<4xf32>) -> ()
  call @leaf_noalias(%y) : (memref<4xf32>) -> ()
  call @decl(%y) : (memref<4xf32>) -> ()
  call @decl_copy(%y) : (memref<4xf32>) -> ()
  return
}
