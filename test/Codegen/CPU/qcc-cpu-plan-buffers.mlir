// RUN: qcc-opt %s -split-input-file -qcc-cpu-plan-buffers | FileCheck %s
// RUN: qcc-opt %s -split-input-file -qcc-cpu-plan-buffers="arena-argument=1" | FileCheck %s --check-prefix=ARG

// Three buffers: %a and %b live at the same time and get disjoint bytes;
// %c is allocated after %a's dealloc and reuses its bytes. One arena
// allocation at the top, freed before the return; no other malloc or free.
// CHECK-LABEL: func @main
// CHECK: %[[ARENA:.+]] = memref.alloc() {alignment = 64 : i64} : memref<8192xi8>
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C4096:.+]] = arith.constant 4096 : index
// CHECK: %[[A:.+]] = memref.view %[[ARENA]][%[[C0]]][] : memref<8192xi8> to memref<32x32xf32>
// CHECK: %[[B:.+]] = memref.view %[[ARENA]][%[[C4096]]][] : memref<8192xi8> to memref<32x32xf32>
// CHECK: call @k(%[[A]], %[[B]])
// CHECK-NOT: memref.dealloc %[[A]]
// CHECK: %[[C:.+]] = memref.view %[[ARENA]][%[[C0]]][] : memref<8192xi8> to memref<1024xf32>
// CHECK: call @k2(%[[B]], %[[C]])
// CHECK-NOT: memref.alloc
// CHECK: memref.dealloc %[[ARENA]] : memref<8192xi8>
// CHECK-NEXT: return
func.func private @k(memref<32x32xf32>, memref<32x32xf32>)
func.func private @k2(memref<32x32xf32>, memref<1024xf32>)
func.func @main(%out: memref<1024xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
  call @k(%a, %b) : (memref<32x32xf32>, memref<32x32xf32>) -> ()
  memref.dealloc %a : memref<32x32xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<1024xf32>
  call @k2(%b, %c) : (memref<32x32xf32>, memref<1024xf32>) -> ()
  memref.dealloc %b : memref<32x32xf32>
  memref.copy %c, %out : memref<1024xf32> to memref<1024xf32>
  memref.dealloc %c : memref<1024xf32>
  return
}

// -----

// Small buffers are padded to the alignment. A buffer with a dynamic size,
// one without a dealloc in the entry block and one freed inside a nested
// region stay with malloc.
// CHECK-LABEL: func @main
// CHECK: %[[ARENA:.+]] = memref.alloc() {alignment = 64 : i64} : memref<128xi8>
// CHECK: memref.view %[[ARENA]]{{.+}} to memref<3xi8>
// CHECK: memref.view %[[ARENA]]{{.+}} to memref<2xf32>
// CHECK: memref.alloc(%{{.+}}) : memref<?xf32>
// CHECK: memref.alloc() : memref<4xf32>
// CHECK: memref.alloc() : memref<5xf32>
func.func private @use(memref<3xi8>, memref<2xf32>, memref<?xf32>, memref<4xf32>, memref<5xf32>)
func.func @main(%n: index, %cond: i1) {
  %a = memref.alloc() : memref<3xi8>
  %b = memref.alloc() : memref<2xf32>
  %d = memref.alloc(%n) : memref<?xf32>
  %e = memref.alloc() : memref<4xf32>
  %f = memref.alloc() : memref<5xf32>
  call @use(%a, %b, %d, %e, %f) : (memref<3xi8>, memref<2xf32>, memref<?xf32>, memref<4xf32>, memref<5xf32>) -> ()
  scf.if %cond {
    memref.dealloc %f : memref<5xf32>
  }
  memref.dealloc %a : memref<3xi8>
  memref.dealloc %b : memref<2xf32>
  memref.dealloc %d : memref<?xf32>
  return
}

// -----

// Fewer than two plannable buffers: nothing to share, nothing changes.
// CHECK-LABEL: func @main
// CHECK: memref.alloc() : memref<4xf32>
// CHECK-NOT: memref.view
func.func private @use1(memref<4xf32>)
func.func @main() {
  %a = memref.alloc() : memref<4xf32>
  call @use1(%a) : (memref<4xf32>) -> ()
  memref.dealloc %a : memref<4xf32>
  return
}

// -----

// With arena-argument the arena is the entry function's last parameter and
// its size a module attribute: no allocation and no free left in the entry.
// CHECK-LABEL: func @main
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2048xi8>
// ARG-LABEL: module attributes {qcc.arena_bytes = 2048 : i64}
// ARG: func @main
// ARG-SAME: (%[[OUT:.+]]: memref<256xf32>, %[[ARENA:.+]]: memref<2048xi8>)
// ARG-NOT: memref.alloc
// ARG: memref.view %[[ARENA]]{{.+}} to memref<16x16xf32>
// ARG: memref.view %[[ARENA]]{{.+}} to memref<16x16xf32>
// ARG-NOT: memref.alloc
// ARG-NOT: memref.dealloc
// ARG: return
func.func private @k3(memref<16x16xf32>, memref<16x16xf32>)
func.func @main(%out: memref<256xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<16x16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16x16xf32>
  call @k3(%a, %b) : (memref<16x16xf32>, memref<16x16xf32>) -> ()
  memref.dealloc %a : memref<16x16xf32>
  memref.dealloc %b : memref<16x16xf32>
  return
}
