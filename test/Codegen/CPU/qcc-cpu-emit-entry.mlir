// RUN: qcc-opt %s -split-input-file -qcc-cpu-emit-entry -verify-diagnostics | FileCheck %s

// One weight at offset 64, one input, one output.
// CHECK-LABEL: llvm.func internal @main
// CHECK-LABEL: llvm.func @qcc_artifact_abi_version() -> i32
// CHECK: %[[VERSION:.+]] = llvm.mlir.constant(2 : i32) : i32
// CHECK: llvm.return %[[VERSION]]
// Without qcc.arena_bytes the model needs no arena.
// CHECK-LABEL: llvm.func @qcc_artifact_arena_bytes() -> i64
// CHECK: %[[ZERO:.+]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.return %[[ZERO]]
// CHECK-LABEL: llvm.func @qcc_artifact_main
// CHECK-SAME: (%[[CTX:.+]]: !llvm.ptr, %[[INS:.+]]: !llvm.ptr, %[[OUTS:.+]]: !llvm.ptr, %[[WTS:.+]]: !llvm.ptr)
// CHECK: %[[OFF:.+]] = llvm.mlir.constant(64 : i64) : i64
// CHECK: %[[W:.+]] = llvm.getelementptr %[[WTS]][%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, i8
// CHECK: %[[ISLOT:.+]] = llvm.getelementptr %[[INS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[IN:.+]] = llvm.load %[[ISLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[OSLOT:.+]] = llvm.getelementptr %[[OUTS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[OUT:.+]] = llvm.load %[[OSLOT]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @main(%[[W]], %[[IN]], %[[OUT]])
module attributes {qcc.num_inputs = 1 : i64, qcc.weights = [{offset = 64 : i64, size = 4 : i64, value = dense<1.0> : tensor<1xf32>}]} {
  llvm.func @main(%w: !llvm.ptr, %x: !llvm.ptr, %y: !llvm.ptr) {
    llvm.return
  }
}

// -----

// With qcc.exec_context the entry function takes the context first.
// CHECK-LABEL: llvm.func internal @main
// CHECK-LABEL: llvm.func @qcc_artifact_main
// CHECK-SAME: (%[[CTX:.+]]: !llvm.ptr, %[[INS:.+]]: !llvm.ptr, %[[OUTS:.+]]: !llvm.ptr, %[[WTS:.+]]: !llvm.ptr)
// CHECK: %[[IN:.+]] = llvm.load
// CHECK: %[[OUT0:.+]] = llvm.load
// CHECK: %[[OUT1:.+]] = llvm.load
// CHECK: llvm.call @main(%[[CTX]], %[[IN]], %[[OUT0]], %[[OUT1]])
module attributes {qcc.exec_context, qcc.num_inputs = 1 : i64} {
  llvm.func @main(%ctx: !llvm.ptr, %x: !llvm.ptr, %y: !llvm.ptr, %z: !llvm.ptr) {
    llvm.return
  }
}

// -----

// With qcc.arena_bytes the entry function takes the arena last, loaded from
// ctx->arena (byte 24 of qcc_exec_context), and the size is exported.
// CHECK-LABEL: llvm.func internal @main
// CHECK-LABEL: llvm.func @qcc_artifact_arena_bytes() -> i64
// CHECK: %[[BYTES:.+]] = llvm.mlir.constant(4096 : i64) : i64
// CHECK: llvm.return %[[BYTES]]
// CHECK-LABEL: llvm.func @qcc_artifact_main
// CHECK-SAME: (%[[CTX:.+]]: !llvm.ptr, %[[INS:.+]]: !llvm.ptr, %[[OUTS:.+]]: !llvm.ptr, %[[WTS:.+]]: !llvm.ptr)
// CHECK: %[[IN:.+]] = llvm.load
// CHECK: %[[OUT:.+]] = llvm.load
// CHECK: %[[FIELD:.+]] = llvm.getelementptr %[[CTX]][24] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK: %[[ARENA:.+]] = llvm.load %[[FIELD]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.call @main(%[[CTX]], %[[IN]], %[[OUT]], %[[ARENA]])
module attributes {qcc.arena_bytes = 4096 : i64, qcc.exec_context, qcc.num_inputs = 1 : i64} {
  llvm.func @main(%ctx: !llvm.ptr, %x: !llvm.ptr, %y: !llvm.ptr, %arena: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{qcc.arena_bytes must be a non-negative integer}}
module attributes {qcc.arena_bytes = -1 : i64, qcc.num_inputs = 1 : i64} {
  llvm.func @main(%x: !llvm.ptr, %arena: !llvm.ptr) {
    llvm.return
  }
}

// -----

module attributes {qcc.arena_bytes = 64 : i64, qcc.num_inputs = 1 : i64} {
  // expected-error @+1 {{entry function does not take weights, inputs and output buffers and the arena as its only parameters}}
  llvm.func @main(%arena: !llvm.ptr) {
    llvm.return
  }
}

// -----

module attributes {qcc.exec_context, qcc.num_inputs = 1 : i64} {
  // expected-error @+1 {{entry function does not take the context, weights, inputs and output buffers as its only parameters}}
  llvm.func @main(%ctx: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{number of inputs unknown: set num-inputs or the qcc.num_inputs module attribute}}
module {
  llvm.func @main(%x: !llvm.ptr) {
    llvm.return
  }
}

// -----

module attributes {qcc.num_inputs = 1 : i64} {
  // expected-error @+1 {{entry parameters must be bare pointers}}
  llvm.func @main(%x: !llvm.ptr, %n: i64) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{lowered entry function 'main' not found}}
module {
}
