// RUN: qcc-opt %s -qcc-cpu-approximate-math | FileCheck %s

// CHECK-LABEL: func @f32_approximated
// CHECK-NOT: math.exp
// CHECK-NOT: math.erf
// CHECK-NOT: math.tanh
// CHECK: return
func.func @f32_approximated(%x: f32) -> f32 {
  %a = math.exp %x : f32
  %b = math.erf %a : f32
  %c = math.tanh %b : f32
  return %c : f32
}

// Outside the accurate set (sin) and f64 keep libm.
// CHECK-LABEL: func @kept
// CHECK: math.sin %{{.+}} : f32
// CHECK: math.exp %{{.+}} : f64
func.func @kept(%x: f32, %y: f64) -> (f32, f64) {
  %a = math.sin %x : f32
  %b = math.exp %y : f64
  return %a, %b : f32, f64
}
